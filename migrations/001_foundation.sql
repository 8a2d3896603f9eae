-- Directory: organisations (SOR), their endpoints, and patients with their listed GP.
CREATE TABLE organizations (
  id          text PRIMARY KEY,
  sor         text UNIQUE,
  name        text,
  resource    jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE endpoints (
  id               text PRIMARY KEY,
  organization_id  text,
  connection_type  text NOT NULL,
  address          text NOT NULL,
  status           text NOT NULL,
  resource         jsonb NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_by_organization ON endpoints (organization_id);

CREATE TABLE patients (
  id                  text PRIMARY KEY,
  cpr                 text NOT NULL UNIQUE,
  gp_organization_id  text,
  resource            jsonb NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patients_by_gp ON patients (gp_organization_id);

-- Messages accepted at intake. The database is the source of truth; Redis only holds work in flight.
CREATE TABLE messages (
  id                 uuid PRIMARY KEY,
  kind               text NOT NULL,
  status             text NOT NULL,
  sender_client_id   text NOT NULL,
  sender_role        text NOT NULL,
  sender_org_system  text,
  sender_org_value   text,
  patient_cpr        text,
  message_header_id  uuid NOT NULL UNIQUE,
  idempotency_key    text,
  request_hash       text NOT NULL,
  response           jsonb NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sender_client_id, idempotency_key)
);
CREATE INDEX messages_by_status ON messages (status, created_at DESC);
CREATE INDEX messages_by_sender ON messages (sender_client_id, created_at DESC);

-- One row per recipient of a message, holding the exact Bundle that recipient gets.
CREATE TABLE deliveries (
  id                uuid PRIMARY KEY,
  message_id        uuid NOT NULL REFERENCES messages (id),
  recipient_sor     text NOT NULL,
  recipient_name    text,
  endpoint_address  text NOT NULL,
  connection_type   text NOT NULL,
  bundle            jsonb NOT NULL,
  status            text NOT NULL,
  attempts          integer NOT NULL DEFAULT 0,
  last_error        text,
  last_attempt_at   timestamptz,
  delivered_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_by_message ON deliveries (message_id);
CREATE INDEX deliveries_by_status ON deliveries (status);

-- Transactional outbox: written with the message, emptied when the delivery reaches a final state.
CREATE TABLE outbox (
  delivery_id  uuid PRIMARY KEY REFERENCES deliveries (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  relayed_at   timestamptz
);
CREATE INDEX outbox_unrelayed ON outbox (created_at) WHERE relayed_at IS NULL;

-- Disclosure and security log as FHIR AuditEvent resources.
CREATE TABLE audit_events (
  id           uuid PRIMARY KEY,
  recorded     timestamptz NOT NULL,
  action       text NOT NULL,
  outcome      text NOT NULL,
  patient_cpr  text,
  message_id   uuid,
  resource     jsonb NOT NULL
);
CREATE INDEX audit_by_patient ON audit_events (patient_cpr, recorded DESC);
CREATE INDEX audit_by_message ON audit_events (message_id);
