import type { Queryable } from '../store/db';
import { setSubscriptionStatus } from './subscription-store';

/**
 * Subscription.end: once it has passed the subscription is `off` (R5 Subscriptions Backport), so no event is
 * recorded for it, nothing more is sent and $status says off. It is kept in the stored resource (there is no
 * column for it), and compared here in JavaScript rather than cast in SQL: the check runs inside intake's
 * transaction, where a value PostgreSQL could not cast would fail the message that raised the event.
 */
export function hasEnded(end: string | null | undefined, now: Date = new Date()): boolean {
  if (!end) {
    return false;
  }
  const at = Date.parse(end);
  return !Number.isNaN(at) && at <= now.getTime();
}

/** Turns every subscription whose end has passed off; returns their ids. */
export async function turnOffEnded(db: Queryable, now: Date = new Date()): Promise<string[]> {
  const rows = await db.query<{ id: string; end: string }>(
    "SELECT id, resource->>'end' AS end FROM subscriptions WHERE status <> 'off' AND resource->>'end' IS NOT NULL",
  );
  const ended = rows.filter((r) => hasEnded(r.end, now)).map((r) => r.id);
  for (const id of ended) {
    await setSubscriptionStatus(db, id, 'off');
  }
  return ended;
}
