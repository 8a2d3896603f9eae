-- Issue 18, item 1: the planning meeting before discharge, its participants' answers and its reminder.

CREATE TABLE planning_meetings (
  id                 uuid PRIMARY KEY,
  patient_cpr        text NOT NULL,
  organizer_client   text NOT NULL,
  organizer_system   text NOT NULL,
  organizer_value    text NOT NULL,
  organizer_name     text,
  organizer_contact  jsonb NOT NULL,
  status             text NOT NULL,
  time_options       jsonb NOT NULL,
  booked_start       timestamptz,
  booked_end         timestamptz,
  online_link        text NOT NULL,
  reminder_minutes   integer NOT NULL,
  -- The reminder is a BullMQ delayed job; this row is its record (reconciled at start).
  reminder_due_at    timestamptz,
  reminder_sent_at   timestamptz,
  version            integer NOT NULL DEFAULT 1,
  plan               jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX planning_meetings_by_patient ON planning_meetings (patient_cpr);
CREATE INDEX planning_meetings_by_organizer ON planning_meetings (organizer_system, organizer_value);
CREATE INDEX planning_meetings_reminders_due ON planning_meetings (reminder_due_at)
  WHERE reminder_sent_at IS NULL AND reminder_due_at IS NOT NULL;

-- One row per wanted participant: invited (with the endpoint and dialect used) or not, and why.
CREATE TABLE planning_meeting_participants (
  meeting_id          uuid NOT NULL REFERENCES planning_meetings (id),
  role                text NOT NULL,
  party_system        text NOT NULL,
  party_value         text NOT NULL,
  party_name          text,
  endpoint_address    text,
  connection_type     text,
  dialect             text,
  status              text NOT NULL,
  not_invited_reason  text,
  proposed_start      timestamptz,
  proposed_end        timestamptz,
  answered_at         timestamptz,
  answered_by_client  text,
  PRIMARY KEY (meeting_id, role)
);
CREATE INDEX planning_meeting_participants_by_party ON planning_meeting_participants (party_system, party_value);

-- Every message sent about a meeting, so a participant's reply (a MedCom CareCommunication answering one of
-- them through $process-message) is recorded as that participant's answer.
CREATE TABLE planning_meeting_messages (
  message_id  uuid PRIMARY KEY,
  meeting_id  uuid NOT NULL REFERENCES planning_meetings (id),
  role        text NOT NULL
);
CREATE INDEX planning_meeting_messages_by_meeting ON planning_meeting_messages (meeting_id);
ALTER TABLE planning_meeting_participants ADD COLUMN answered_via text;
