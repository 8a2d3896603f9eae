-- A discarded dead letter is its own fact, not `failed` plus a text prefix in last_error: who gave it up,
-- when, and why. last_error keeps the note ("discarded by <client>: <reason>"), which tracking shows.
ALTER TABLE deliveries ADD COLUMN discarded_at timestamptz;
ALTER TABLE deliveries ADD COLUMN discarded_by text;
ALTER TABLE deliveries ADD COLUMN discard_reason text;
-- Back-fill from the prefix the gateway wrote until now; the delivery's last change was the discard.
UPDATE deliveries
   SET discarded_at = updated_at,
       discarded_by = CASE WHEN position(': ' IN substr(last_error, 14)) > 0
                           THEN left(substr(last_error, 14), position(': ' IN substr(last_error, 14)) - 1)
                           ELSE substr(last_error, 14) END,
       discard_reason = CASE WHEN position(': ' IN substr(last_error, 14)) > 0
                             THEN substr(substr(last_error, 14), position(': ' IN substr(last_error, 14)) + 2)
                             ELSE '' END
 WHERE status = 'failed' AND last_error LIKE 'discarded by %';
ALTER TABLE deliveries ADD CONSTRAINT deliveries_discard_is_whole
  CHECK ((discarded_at IS NULL) = (discarded_by IS NULL) AND (discarded_at IS NULL) = (discard_reason IS NULL));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_discarded_is_failed CHECK (discarded_at IS NULL OR status = 'failed');

-- The column holds the recipient identifier's value in recipient_system (a SOR code, a municipality code or a
-- CVR number), not always a SOR code.
ALTER TABLE deliveries RENAME COLUMN recipient_sor TO recipient_value;

-- Status columns take only the values of their TypeScript unions (src/store/messages.ts DeliveryStatus and
-- MessageStatus, src/mappers/status-report/task.ts TASK_STATUSES, task-store.ts ReminderKind, backport.ts
-- SubscriptionStatus and PayloadContent, sick-leave/types.ts CertificateStatus); test/integration/store-migration-012.test.ts keeps
-- the two in step.
ALTER TABLE messages ADD CONSTRAINT messages_status_known
  CHECK (status IN ('accepted', 'queued', 'delivered', 'failed', 'dead', 'blocked'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_known
  CHECK (status IN ('pending', 'queued', 'delivered', 'failed', 'dead', 'blocked'));
ALTER TABLE tasks ADD CONSTRAINT tasks_status_known
  CHECK (status IN ('requested', 'received', 'accepted', 'rejected', 'in-progress', 'completed', 'cancelled'));
ALTER TABLE task_reminders ADD CONSTRAINT task_reminders_kind_known CHECK (kind IN ('before-deadline', 'deadline'));
ALTER TABLE task_reminders ADD CONSTRAINT task_reminders_state_known CHECK (state IN ('scheduled', 'sent', 'cancelled'));
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_status_known
  CHECK (status IN ('requested', 'active', 'error', 'off'));
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_content_known
  CHECK (content IN ('empty', 'id-only', 'full-resource'));
ALTER TABLE certificates ADD CONSTRAINT certificates_status_known
  CHECK (status IN ('current', 'replaced', 'entered-in-error'));
