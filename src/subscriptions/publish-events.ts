import type { Queryable } from '../store/db';
import { topicOfKind } from './topics';

/**
 * Records subscription events for a message, in the transaction that stores it: a 202 and its events commit
 * together, so no notification is lost and none is sent for a message that was not stored. Each matching
 * subscription gets the next event number (events-since-subscription-start).
 */
export interface PublishedMessage {
  kind: string;
  patientCpr: string | undefined;
  taskId?: string | undefined;
  deliveries: ReadonlyArray<{ id: string; recipientSystem?: string | undefined; recipientSor: string }>;
}

const SOR = 'urn:oid:1.2.208.176.1.1';

export async function recordSubscriptionEvents(tx: Queryable, m: PublishedMessage): Promise<number> {
  const topic = topicOfKind(m.kind);
  if (!topic || !m.patientCpr) {
    return 0;
  }
  let recorded = 0;
  for (const d of m.deliveries) {
    if (topic.audience === 'addressee' && (d.recipientSystem ?? SOR) !== SOR) {
      continue;
    }
    const focusId = topic.focusType === 'Task' ? (m.taskId ?? d.id) : d.id;
    // Listed-practice topics: the practice the patient is listed with now (a patient who moved is no longer
    // theirs); one statement, so a message with no subscribers costs one round trip.
    const subscribers = await tx.query<{ id: string; events_since_start: string | number }>(
      `UPDATE subscriptions SET events_since_start = events_since_start + 1, updated_at = now()
        WHERE topic = $1 AND org_system = $2 AND org_value = COALESCE($3::text, (SELECT o.sor FROM patients p JOIN organizations o ON o.id = p.gp_organization_id WHERE p.cpr = $4)) AND status <> 'off' AND (patient_cpr IS NULL OR patient_cpr = $4)
        RETURNING id, events_since_start`,
      [topic.url, SOR, topic.audience === 'addressee' ? d.recipientSor : null, m.patientCpr],
    );
    for (const s of subscribers) {
      await tx.query(
        'INSERT INTO subscription_events (subscription_id, event_number, kind, patient_cpr, focus_type, focus_id) VALUES ($1, $2, $3, $4, $5, $6)',
        [s.id, Number(s.events_since_start), m.kind, m.patientCpr, topic.focusType, focusId],
      );
      recorded += 1;
    }
    if (topic.audience === 'listed-practice') {
      // One event per message for the listed practice, however many recipients it has.
      break;
    }
  }
  return recorded;
}
