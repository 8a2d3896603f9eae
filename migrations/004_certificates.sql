-- Sick-leave certificates: one row per certificate version the gateway accepted. A correction is a new row
-- that replaces the old (status replaced); a cancellation marks the row entered-in-error. The periods of a
-- patient's current certificates must not overlap.
CREATE TABLE certificates (
  id                 uuid PRIMARY KEY,
  patient_cpr        text NOT NULL,
  issuer_client_id   text NOT NULL,
  issuer_org         text NOT NULL,
  kind               text NOT NULL,
  status             text NOT NULL,
  continues          uuid REFERENCES certificates (id),
  replaces           uuid REFERENCES certificates (id),
  period_start       date NOT NULL,
  period_end         date NOT NULL,
  certificate        jsonb NOT NULL,
  idempotency_key    text,
  request_hash       text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (issuer_client_id, idempotency_key)
);
CREATE INDEX certificates_by_patient ON certificates (patient_cpr, status, period_start);

-- Which messages carried a certificate, so corrections and cancellations reach everyone who had it.
ALTER TABLE messages ADD COLUMN certificate_id uuid;
CREATE INDEX messages_by_certificate ON messages (certificate_id) WHERE certificate_id IS NOT NULL;
