import { recordAudit } from '../audit/record-audit';
import { SYSTEM } from '../mappers/systems';
import { markTaskReceived } from '../status-report/task-store';
import type { Metrics } from '../observability/metrics';
import type { Db, Queryable } from '../store/db';
import { kindFacts } from '../messages/message-kinds';
import { recordDeliveryAttempt, type DeliveryStatus, type DeliveryWork } from '../store/messages';

export type FinalStatus = Exclude<DeliveryStatus, 'pending' | 'queued'>;

/** Documents between health-care providers are disclosed for the patient's treatment. */
const TREATMENT = { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' };

const AUDIT_ACTION = {
  delivered: 'delivered',
  failed: 'delivery-failed',
  dead: 'dead-letter',
  blocked: 'blocked',
} as const;

/**
 * Puts a delivery into a final state and writes its disclosure AuditEvent in the same transaction, so the
 * disclosure log can never disagree with the tracking.
 */
export async function completeDelivery(
  deps: { db: Db; metrics: Metrics },
  work: DeliveryWork,
  status: FinalStatus,
  error: string | null,
  attempted: boolean,
  /** More writes for the same transaction (the recipient's acknowledgement): one commit per delivery. */
  alsoWrite?: (tx: Queryable) => Promise<void>,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await alsoWrite?.(tx);
    await recordDeliveryAttempt(tx, work.id, { status, error, countsAsAttempt: attempted });
    if (status === 'delivered' && kindFacts(work.kind).onDelivered === 'task-received' && work.taskId) {
      await markTaskReceived(tx, work.taskId);
    }
    await recordAudit(tx, {
      action: AUDIT_ACTION[status],
      messageKind: work.kind,
      messageId: work.messageId,
      messageHeaderId: work.messageHeaderId,
      sender: { clientId: work.senderClientId, organization: work.senderOrg },
      recipient: { system: work.recipientSystem, value: work.recipientValue, name: work.recipientName ?? undefined },
      purpose: work.disclosure ? { system: SYSTEM.purpose, code: work.disclosure.purpose } : TREATMENT,
      patientCpr: work.patientCpr ?? undefined,
      dataClasses: work.disclosure?.dataClasses ?? [kindFacts(work.kind).dataClass],
      reason: error ?? undefined,
    });
  });
  deps.metrics.deliveries.inc({ kind: work.kind, outcome: status });
}
