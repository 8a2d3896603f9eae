import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { hasEnded } from './subscription-end';
import { topicOfKind } from './topics';

/**
 * Records subscription events for a message, in the transaction that stores it: a 202 and its events commit
 * together, so no notification is lost and none is sent for a message that was not stored. Each matching
 * subscription gets the next event number (events-since-subscription-start); one whose end has passed gets none.
 */
export interface PublishedMessage {
  id: string;
  kind: string;
  patientCpr: string | undefined;
  taskId?: string | undefined;
  deliveries: ReadonlyArray<{ id: string; recipientSystem?: string | undefined; recipientSor: string }>;
}

export async function recordSubscriptionEvents(tx: Queryable, m: PublishedMessage): Promise<number> {
  const topic = topicOfKind(m.kind);
  if (!topic || !m.patientCpr) {
    return 0;
  }
  const ownDelivery = (sor: string) =>
    m.deliveries.find((d) => (d.recipientSystem ?? SYSTEM.sor) === SYSTEM.sor && d.recipientSor === sor)?.id;
  let recorded = 0;
  if (topic.audience === 'addressee') {
    for (const d of m.deliveries) {
      if ((d.recipientSystem ?? SYSTEM.sor) !== SYSTEM.sor) {
        continue;
      }
      const focusId = topic.focusType === 'Task' ? (m.taskId ?? d.id) : d.id;
      recorded += await record(tx, m, topic.url, d.recipientSor, topic.focusType, () => focusId);
    }
    return recorded;
  }
  // The patient's listed practice: one event per message, however many recipients it has. Its focus must be
  // something that practice may read: its own delivery when it is an addressee; otherwise the message id,
  // which GET /fhir/Bundle resolves to the listed practice's copy (consent-checked and audited there). Another
  // addressee's delivery would be a 404 to it, and a full-resource payload built for someone else.
  return record(tx, m, topic.url, null, topic.focusType, (practiceSor) => ownDelivery(practiceSor) ?? m.id);
}

async function record(
  tx: Queryable,
  m: PublishedMessage,
  topic: string,
  addresseeSor: string | null,
  focusType: string,
  focusFor: (practiceSor: string) => string,
): Promise<number> {
  // Listed-practice topics: the practice the patient is listed with now (a patient who moved is no longer theirs).
  // Every candidate belongs to that one practice, so they share one focus.
  const candidates = await tx.query<{ id: string; org_value: string; end: string | null }>(
    `SELECT id, org_value, resource->>'end' AS end FROM subscriptions
      WHERE topic = $1 AND org_system = $2 AND org_value = COALESCE($3::text, (SELECT o.sor FROM patients p JOIN organizations o ON o.id = p.gp_organization_id WHERE p.cpr = $4))
        AND status <> 'off' AND (patient_cpr IS NULL OR patient_cpr = $4)`,
    [topic, SYSTEM.sor, addresseeSor, m.patientCpr],
  );
  const now = new Date();
  const live = candidates.filter((c) => !hasEnded(c.end, now));
  const practice = live[0]?.org_value;
  if (practice === undefined) {
    // A message with no subscribers costs this one round trip.
    return 0;
  }
  // Number and record the event for every subscriber in one statement, however many there are.
  const recorded = await tx.query<{ subscription_id: string }>(
    `WITH s AS (
       UPDATE subscriptions SET events_since_start = events_since_start + 1, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status <> 'off'
        RETURNING id, events_since_start)
     INSERT INTO subscription_events (subscription_id, event_number, kind, patient_cpr, focus_type, focus_id)
     SELECT id, events_since_start, $2, $3, $4, $5 FROM s
     RETURNING subscription_id`,
    [live.map((c) => c.id), m.kind, m.patientCpr, focusType, focusFor(practice)],
  );
  return recorded.length;
}
