-- Topic-based subscriptions (FHIR R5 Subscriptions Backport for R4): a GP system's rest-hook for events about its
-- listed patients. Events are numbered per subscription and kept, so a receiver that was down can ask $events.
CREATE TABLE subscriptions (
  id                  uuid PRIMARY KEY,
  client_id           text NOT NULL,
  org_system          text NOT NULL,
  org_value           text NOT NULL,
  topic               text NOT NULL,
  patient_cpr         text,
  endpoint            text NOT NULL,
  headers             jsonb NOT NULL DEFAULT '[]',
  content             text NOT NULL,
  heartbeat_seconds   integer,
  status              text NOT NULL,
  events_since_start  bigint NOT NULL DEFAULT 0,
  last_notified_at    timestamptz,
  error               text,
  resource            jsonb NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_by_topic ON subscriptions (topic, org_value) WHERE status <> 'off';
CREATE INDEX subscriptions_by_client ON subscriptions (client_id);

CREATE TABLE subscription_events (
  subscription_id  uuid NOT NULL REFERENCES subscriptions (id),
  event_number     bigint NOT NULL,
  occurred_at      timestamptz NOT NULL DEFAULT now(),
  kind             text NOT NULL,
  patient_cpr      text,
  focus_type       text NOT NULL,
  focus_id         text NOT NULL,
  notified_at      timestamptz,
  PRIMARY KEY (subscription_id, event_number)
);
CREATE INDEX subscription_events_unsent ON subscription_events (subscription_id, event_number) WHERE notified_at IS NULL;
