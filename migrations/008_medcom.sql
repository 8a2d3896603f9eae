-- MedCom reliable messaging. The acknowledgement a delivery got (ok / transient-error / fatal-error and the
-- MedCom error code, MSG_*), kept for tracking; the MedCom messages the gateway received, keyed by
-- (MessageHeader.id, Bundle.id) to tell a new message from a resend (same MessageHeader.id, new Bundle.id) and a
-- duplicate (both the same), with the acknowledgement the gateway answered; the message a reply answers.
ALTER TABLE deliveries ADD COLUMN ack_code text, ADD COLUMN ack_error_code text;
ALTER TABLE messages ADD COLUMN in_reply_to text;
CREATE TABLE medcom_received (
  message_header_id text NOT NULL,
  bundle_id text NOT NULL,
  message_id text,
  ack_code text NOT NULL,
  ack_error_code text,
  ack jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_header_id, bundle_id)
);
CREATE INDEX medcom_received_by_bundle ON medcom_received (bundle_id);
