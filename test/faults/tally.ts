import type { Composition } from 'fhir/r4';
import type { ReceivedMessage } from '../../scripts/fhir-message-receiver';
import type { Queryable } from '../../src/store/db';

/**
 * The promise of a 202 checked message by message: every accepted message arrived once, or more than once with
 * the same MessageHeader.id (which receivers de-duplicate), or is a dead letter with a reason. Anything else is
 * lost. A letter that arrived under two different MessageHeader.ids would be a duplicate no receiver can
 * recognise: that must never happen either.
 */
export interface Tally {
  scenario: string;
  accepted: number;
  deliveredOnce: number;
  deliveredTwiceSameId: number;
  duplicatesWithOtherId: number;
  deadLettered: number;
  deadReasons: string[];
  lost: number;
  notes: string[];
}

export async function tally(
  scenario: string,
  db: Queryable,
  acceptedIds: readonly string[],
  received: readonly ReceivedMessage[],
  notes: string[] = [],
): Promise<Tally> {
  const rows = acceptedIds.length
    ? await db.query<{ id: string; message_header_id: string; status: string; last_error: string | null }>(
        `SELECT m.id, m.message_header_id, m.status, (SELECT string_agg(d.last_error, '; ') FROM deliveries d WHERE d.message_id = m.id) AS last_error
           FROM messages m WHERE m.id = ANY($1::uuid[])`,
        [acceptedIds],
      )
    : [];
  const receipts = new Map<string, number>();
  const headersByDocument = new Map<string, Set<string>>();
  for (const m of received.filter((r) => r.accepted)) {
    receipts.set(m.messageHeaderId, (receipts.get(m.messageHeaderId) ?? 0) + 1);
    const composition = m.bundle.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource as
      | Composition
      | undefined;
    const documentId = composition?.identifier?.value;
    if (documentId) {
      headersByDocument.set(documentId, (headersByDocument.get(documentId) ?? new Set()).add(m.messageHeaderId));
    }
  }
  let once = 0;
  let twice = 0;
  let dead = 0;
  let lost = 0;
  const reasons = new Set<string>();
  const lostIds: string[] = [];
  for (const r of rows) {
    const n = receipts.get(r.message_header_id) ?? 0;
    if (n === 1) {
      once += 1;
    } else if (n > 1) {
      twice += 1;
    } else if (r.status === 'dead' || r.status === 'failed') {
      dead += 1;
      reasons.add((r.last_error ?? 'no reason').replace(/[0-9a-f-]{36}/g, '…').slice(0, 120));
    } else {
      lost += 1;
      lostIds.push(r.id);
    }
  }
  // Ids the client got a 202 for but the database does not know: lost as well.
  const known = new Set(rows.map((r) => r.id));
  const unknown = acceptedIds.filter((id) => !known.has(id));
  lost += unknown.length;
  if (unknown.length) {
    notes.push(`lost: ${unknown.length} accepted id(s) the database does not know`);
  }
  for (const state of await whereLost(db, lostIds)) {
    notes.push(`lost: ${state}`);
  }
  const duplicates = [...headersByDocument.values()].filter((s) => s.size > 1).length;
  return {
    scenario,
    accepted: acceptedIds.length,
    deliveredOnce: once,
    deliveredTwiceSameId: twice,
    duplicatesWithOtherId: duplicates,
    deadLettered: dead,
    deadReasons: [...reasons],
    lost,
    notes,
  };
}

/** Where a lost message stands in the database, so a failure says which step dropped it. */
async function whereLost(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) {
    return [];
  }
  const rows = await db.query<{ id: string; status: string; delivery: string | null; outbox: string | null }>(
    `SELECT m.id, m.status,
            (SELECT string_agg(d.status || ' attempts ' || d.attempts, '; ') FROM deliveries d WHERE d.message_id = m.id) AS delivery,
            (SELECT string_agg(CASE WHEN o.relayed_at IS NULL THEN 'unrelayed' ELSE 'relayed' END, '; ')
               FROM outbox o JOIN deliveries d ON d.id = o.delivery_id WHERE d.message_id = m.id) AS outbox
       FROM messages m WHERE m.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map(
    (r) => `message ${r.id} is ${r.status}; delivery ${r.delivery ?? 'none'}; outbox ${r.outbox ?? 'none'}`,
  );
}

export function failed(t: Tally): boolean {
  return t.lost > 0 || t.duplicatesWithOtherId > 0;
}
