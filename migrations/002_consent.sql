-- Consent records (FHIR R4 Consent). Withdrawal keeps the record: status becomes inactive.
CREATE TABLE consents (
  id           text PRIMARY KEY,
  patient_cpr  text NOT NULL,
  status       text NOT NULL,
  version      integer NOT NULL DEFAULT 1,
  recorded_by_client  text NOT NULL,
  recorded_by_org     text NOT NULL,
  resource     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_by_patient ON consents (patient_cpr, status);
