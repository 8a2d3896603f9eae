-- Every version of every consent (FHIR history: GET /fhir/Consent/{id}/_history[/{vid}]). A change or a
-- withdrawal writes a new row here in the transaction that updates consents; nothing is overwritten.
CREATE TABLE consent_versions (
  consent_id          text NOT NULL REFERENCES consents (id),
  version             integer NOT NULL,
  -- create | update | withdraw
  action              text NOT NULL,
  status              text NOT NULL,
  changed_by_client   text NOT NULL,
  changed_by_org      text NOT NULL,
  changed_by_role     text,
  resource            jsonb NOT NULL,
  changed_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consent_id, version)
);

-- Consents recorded before this migration: their current version is all that was kept.
INSERT INTO consent_versions (consent_id, version, action, status, changed_by_client, changed_by_org, resource, changed_at)
SELECT id, version, CASE WHEN version = 1 THEN 'create' ELSE 'update' END, status, recorded_by_client, recorded_by_org,
       resource, updated_at
  FROM consents;

-- The organisation that may change or withdraw the consent besides the patient and admins: its recorder, until
-- the patient or an admin changes it (then NULL: a consent the patient has touched is the patient's).
ALTER TABLE consents ADD COLUMN owner_org text;
UPDATE consents SET owner_org = recorded_by_org WHERE recorded_by_org NOT LIKE 'urn:oid:1.2.208.176.1.2|%';
