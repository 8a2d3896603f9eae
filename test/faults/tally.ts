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

export async function tally(scenario: string, db: Queryable, acceptedIds: readonly string[], received: readonly ReceivedMessage[], notes: string[] = []): Promise<Tally> {
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
    const composition = m.bundle.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource as Composition | undefined;
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
    }
  }
  // Ids the client got a 202 for but the database does not know: lost as well.
  lost += acceptedIds.length - rows.length;
  const duplicates = [...headersByDocument.values()].filter((s) => s.size > 1).length;
  return { scenario, accepted: acceptedIds.length, deliveredOnce: once, deliveredTwiceSameId: twice, duplicatesWithOtherId: duplicates, deadLettered: dead, deadReasons: [...reasons], lost, notes };
}

export function failed(t: Tally): boolean {
  return t.lost > 0 || t.duplicatesWithOtherId > 0;
}
