-- POST /symptom-reports honours Idempotency-Key like the other intake routes: a patient's app that resends after a
-- lost answer gets the first answer again (and no second alert to the care manager and GP); the same key with a
-- different body is a 409. The answer is kept as given (it names who was alerted), keyed per API client.
ALTER TABLE symptom_reports ADD COLUMN client_id text;
ALTER TABLE symptom_reports ADD COLUMN idempotency_key text;
ALTER TABLE symptom_reports ADD COLUMN request_hash text;
ALTER TABLE symptom_reports ADD COLUMN answer jsonb;
CREATE UNIQUE INDEX symptom_reports_idempotency ON symptom_reports (client_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
