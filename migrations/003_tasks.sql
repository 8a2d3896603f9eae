-- Recipients outside health care are named by a municipality code or a CVR number, not a SOR code.
ALTER TABLE deliveries ADD COLUMN recipient_system text NOT NULL DEFAULT 'urn:oid:1.2.208.176.1.1';

-- What a message discloses (purpose and data classes), so the check right before delivery and the
-- AuditEvent use the same terms as the decision at intake. NULL: the document kind is the data class.
ALTER TABLE messages ADD COLUMN disclosure jsonb;
-- The status-report Task a message belongs to (request, answer, reminder...).
ALTER TABLE messages ADD COLUMN task_id uuid;
CREATE INDEX messages_by_task ON messages (task_id) WHERE task_id IS NOT NULL;

-- Status-report requests as FHIR Tasks: one row per Task, the state the work lists read.
CREATE TABLE tasks (
  id                   uuid PRIMARY KEY,
  status               text NOT NULL,
  status_reason        text,
  part_of              uuid REFERENCES tasks (id),
  patient_cpr          text NOT NULL,
  question_set         text NOT NULL,
  purpose              text NOT NULL,
  reason               text NOT NULL,
  questionnaire        jsonb NOT NULL,
  requester_client_id  text NOT NULL,
  requester_system     text NOT NULL,
  requester_value      text NOT NULL,
  requester_name       text,
  caseworker           jsonb,
  owner_system         text NOT NULL,
  owner_value          text NOT NULL,
  owner_name           text,
  due_at               timestamptz NOT NULL,
  response             jsonb,
  answered_at          timestamptz,
  answered_late        boolean,
  overdue_at           timestamptz,
  idempotency_key      text,
  request_hash         text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (requester_client_id, idempotency_key)
);
CREATE INDEX tasks_by_owner ON tasks (owner_system, owner_value, status, due_at);
CREATE INDEX tasks_by_requester ON tasks (requester_system, requester_value, status, due_at);
CREATE INDEX tasks_by_part_of ON tasks (part_of) WHERE part_of IS NOT NULL;

-- Every transition of a Task, who made it and why: the history both sides see.
CREATE TABLE task_events (
  id          uuid PRIMARY KEY,
  task_id     uuid NOT NULL REFERENCES tasks (id),
  at          timestamptz NOT NULL DEFAULT now(),
  event       text NOT NULL,
  status      text NOT NULL,
  actor       text NOT NULL,
  note        text
);
CREATE INDEX task_events_by_task ON task_events (task_id, at);

-- Reminders are BullMQ delayed jobs; this table is their durable record, so a gateway that starts (or a
-- Redis that lost its data) re-creates the ones not yet sent, and cancelling a Task cancels them here too.
CREATE TABLE task_reminders (
  task_id     uuid NOT NULL REFERENCES tasks (id),
  kind        text NOT NULL,
  due_at      timestamptz NOT NULL,
  state       text NOT NULL DEFAULT 'scheduled',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, kind)
);
CREATE INDEX task_reminders_scheduled ON task_reminders (due_at) WHERE state = 'scheduled';
