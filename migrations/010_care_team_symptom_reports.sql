-- Issue 18: care teams after discharge, the patient's symptom reports and their alerts.

-- Urgent outbox entries (symptom-report alerts) are relayed first and queued at the head of the delivery queue.
ALTER TABLE outbox ADD COLUMN urgent boolean NOT NULL DEFAULT false;

-- A CareTeam naming the care manager of a patient for a period after discharge.
CREATE TABLE care_teams (
  id                   uuid PRIMARY KEY,
  patient_cpr          text NOT NULL,
  manager_system       text NOT NULL,
  manager_value        text NOT NULL,
  period_start         timestamptz NOT NULL,
  period_end           timestamptz NOT NULL,
  status               text NOT NULL,
  recorded_by_client   text NOT NULL,
  recorded_by_system   text NOT NULL,
  recorded_by_value    text NOT NULL,
  resource             jsonb NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_teams_by_patient ON care_teams (patient_cpr);
CREATE INDEX care_teams_by_manager ON care_teams (manager_system, manager_value);

-- The scored reports (item scores only: the gateway takes no free text), newest first per patient.
CREATE TABLE symptom_reports (
  id            uuid PRIMARY KEY,
  patient_cpr   text NOT NULL,
  instrument    text NOT NULL,
  authored      timestamptz NOT NULL,
  total         integer,
  severity      text,
  items         jsonb NOT NULL,
  rules_fired   jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX symptom_reports_by_patient ON symptom_reports (patient_cpr, authored DESC);

-- One alert per report that fired a rule; open until a care manager or GP acknowledges it.
CREATE TABLE symptom_alerts (
  id               uuid PRIMARY KEY,
  report_id        uuid NOT NULL REFERENCES symptom_reports (id),
  patient_cpr      text NOT NULL,
  rules            jsonb NOT NULL,
  status           text NOT NULL,
  acknowledged_by  text,
  acknowledged_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX symptom_alerts_by_patient ON symptom_alerts (patient_cpr, status);

-- Monitoring paused by the patient: reports are still scored for them, but no alert goes out.
CREATE TABLE symptom_monitoring (
  patient_cpr  text PRIMARY KEY,
  paused       boolean NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now()
);
