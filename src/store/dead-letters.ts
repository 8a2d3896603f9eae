import { recordAudit } from '../audit/record-audit';
import type { Queryable } from './db';
import { deliveryColumns, deliveryFromRow, type DeliveryRow, type DeliveryStatus } from './delivery-row';
import type { MessageRow } from './message-row';
import { isUuid } from './uuid';
import { deliveryTracking, recordDeliveryAttempt, requeueDelivery, type DeliveryTracking } from './messages';
import { and, query, raw, sql } from './sql';

/**
 * Dead letters for operators: deliveries that ended `dead` (retries exhausted) or `failed` (refused for
 * good), with their message's routing facts but never its content. An admin replays one (it goes back
 * through the outbox with a fresh attempt budget) or discards it. A discard keeps the status set unchanged:
 * the delivery becomes `failed` with `discarded_at`/`discarded_by`/`discard_reason` set (migration 012) and
 * `lastError` "discarded by <client>: <reason>" (what tracking shows), and is then neither listed nor
 * replayable. Every replay and discard writes an AuditEvent in the same transaction.
 */
export const DEAD_LETTER_STATUSES = ['dead', 'failed'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** How a discard reads in `lastError` (migration 012 back-filled the discard columns from this prefix). */
export const DISCARD_PREFIX = 'discarded by ';

export interface DeadLetter {
  /** The delivery id. */
  id: string;
  messageId: string;
  kind: string;
  recipient: { sor: string; name: string | null };
  endpoint: string;
  status: DeadLetterStatus;
  attempts: number;
  /** Why it ended here: the recipient's status and reason, the network error, or the discard note. */
  reason: string | null;
  lastAttemptAt: string | null;
  /** When the delivery reached its final state (its last change). */
  failedAt: string;
  messageCreatedAt: string;
  discarded: boolean;
}

export interface DeadLetterDetail extends DeadLetter {
  messageHeaderId: string;
  connectionType: string;
  sender: { clientId: string; organization: { system: string | null; value: string | null } };
  /** The shape of the message Bundle only: no clinical content in an operations view. */
  bundle: { id: string | null; type: string | null; entryCount: number; resourceTypes: string[] };
  /** False once discarded. */
  replayable: boolean;
}

export interface DeadLetterQuery {
  limit: number;
  /** Cursor: the `next` of the previous page ("<instant>~<delivery id>"), or an ISO instant. */
  before?: string | undefined;
  kind?: string | undefined;
}

export interface DeadLetterCursor {
  at: string;
  id?: string | undefined;
}

/** Parses a `before` cursor; undefined when it is neither "<instant>~<uuid>" nor an ISO instant. */
export function parseDeadLetterCursor(text: string): DeadLetterCursor | undefined {
  const [at = '', id, ...rest] = text.split('~');
  if (rest.length > 0 || Number.isNaN(Date.parse(at)) || (id !== undefined && !isUuid(id))) {
    return undefined;
  }
  return { at: new Date(at).toISOString(), id };
}

/** A dead letter's row: the delivery and the few facts of its message an operator sees. */
type DeadLetterRow = DeliveryRow &
  Pick<MessageRow, 'kind'> & { failed_at: Date | string; message_created_at: Date | string };

type DeadLetterDetailRow = DeadLetterRow &
  Pick<MessageRow, 'message_header_id' | 'sender_client_id' | 'sender_org_system' | 'sender_org_value'> & {
    bundle_id: string | null;
    bundle_type: string | null;
    entry_count: number | null;
    resource_types: string[] | null;
  };

// Timestamps are cut to milliseconds in SQL so the cursor (a JavaScript instant) compares exactly.
const FAILED_AT = raw("date_trunc('milliseconds', d.updated_at)");
const COLUMNS = sql`${deliveryColumns()}, m.kind, ${FAILED_AT} AS failed_at, m.created_at AS message_created_at`;
const IS_DEAD_LETTER = sql`d.status IN ('dead', 'failed')`;
const NOT_DISCARDED = sql`d.discarded_at IS NULL`;

/** Dead and failed deliveries that are not discarded, newest failure first, one page at a time. */
export async function listDeadLetters(
  db: Queryable,
  q: DeadLetterQuery,
): Promise<{ items: DeadLetter[]; next?: string }> {
  const cursor = q.before === undefined ? undefined : parseDeadLetterCursor(q.before);
  if (q.before !== undefined && !cursor) {
    throw new Error(`listDeadLetters: bad cursor ${q.before}`);
  }
  const before =
    cursor &&
    (cursor.id
      ? sql`(${FAILED_AT}, d.id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
      : sql`${FAILED_AT} < ${cursor.at}::timestamptz`);
  const rows = await query<DeadLetterRow>(
    db,
    sql`SELECT ${COLUMNS} FROM deliveries d JOIN messages m ON m.id = d.message_id
         WHERE ${and(IS_DEAD_LETTER, NOT_DISCARDED, q.kind && sql`m.kind = ${q.kind}`, before)}
         ORDER BY ${FAILED_AT} DESC, d.id DESC LIMIT ${q.limit + 1}`,
  );
  const items = rows.slice(0, q.limit).map(deadLetter);
  const last = items[items.length - 1];
  return rows.length > q.limit && last ? { items, next: `${last.failedAt}~${last.id}` } : { items };
}

/** A dead or failed delivery (discarded ones too) with its message's routing facts and the Bundle's shape; undefined otherwise. */
export async function getDeadLetter(db: Queryable, deliveryId: string): Promise<DeadLetterDetail | undefined> {
  const rows = await query<DeadLetterDetailRow>(
    db,
    sql`SELECT ${COLUMNS}, m.message_header_id, m.sender_client_id, m.sender_org_system, m.sender_org_value,
            d.bundle->>'id' AS bundle_id, d.bundle->>'type' AS bundle_type,
            jsonb_array_length(COALESCE(d.bundle->'entry', '[]'::jsonb)) AS entry_count,
            (SELECT jsonb_agg(DISTINCT e->'resource'->>'resourceType' ORDER BY e->'resource'->>'resourceType')
               FROM jsonb_array_elements(COALESCE(d.bundle->'entry', '[]'::jsonb)) e) AS resource_types
       FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE d.id = ${deliveryId} AND ${IS_DEAD_LETTER}`,
  );
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  const base = deadLetter(row);
  return {
    ...base,
    messageHeaderId: row.message_header_id,
    connectionType: row.connection_type,
    sender: {
      clientId: row.sender_client_id,
      organization: { system: row.sender_org_system, value: row.sender_org_value },
    },
    bundle: {
      id: row.bundle_id,
      type: row.bundle_type,
      entryCount: row.entry_count ?? 0,
      resourceTypes: (row.resource_types ?? []).filter(Boolean),
    },
    replayable: !base.discarded,
  };
}

/** Ids of the replayable dead letters, oldest message first (so a bulk replay keeps the sending order). */
export async function replayableDeadLetterIds(
  db: Queryable,
  q: { kind?: string | undefined; limit: number },
): Promise<string[]> {
  const rows = await query<{ id: string }>(
    db,
    sql`SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id
         WHERE ${and(IS_DEAD_LETTER, NOT_DISCARDED, q.kind && sql`m.kind = ${q.kind}`)}
         ORDER BY m.created_at, d.created_at, d.id LIMIT ${q.limit}`,
  );
  return rows.map((r) => r.id);
}

export interface OperatorAction {
  /** The admin client doing it. */
  clientId: string;
  /** Why, in the operator's words (1 to 500 characters); it goes into the audit. */
  reason: string;
}

/** Why an action did not apply: unknown delivery, not a dead letter (with its status), or already discarded. */
export type NotApplicable =
  | { outcome: 'not-found' }
  | { outcome: 'not-a-dead-letter'; status: DeliveryStatus }
  | { outcome: 'discarded' };

export type ReplayResult = { outcome: 'replayed'; delivery: DeliveryTracking & { messageId: string } } | NotApplicable;
export type DiscardResult = { outcome: 'discarded-now'; deadLetter: DeadLetterDetail } | NotApplicable;

/** What an operator's action needs of the delivery it locks, and of its message for the AuditEvent. */
type LockedDelivery = DeliveryRow &
  Pick<MessageRow, 'kind' | 'message_header_id' | 'sender_client_id' | 'sender_org_system' | 'sender_org_value'>;

/**
 * Sends a dead or failed delivery again: attempts back to 0, status pending, a fresh outbox entry (so a new
 * job with the full retry budget), and a `replayed` AuditEvent. Call inside a transaction, then wake the relay.
 * The message keeps its MessageHeader.id, so a receiver that already has it de-duplicates.
 */
export async function replayDeadLetter(
  tx: Queryable,
  deliveryId: string,
  action: OperatorAction,
): Promise<ReplayResult> {
  const locked = await lockDeadLetter(tx, deliveryId);
  if (locked.outcome !== 'ok') {
    return locked;
  }
  await tx.query('UPDATE deliveries SET attempts = 0, updated_at = now() WHERE id = $1', [deliveryId]);
  await requeueDelivery(tx, deliveryId, `replayed by ${action.clientId}: ${action.reason}`);
  await audit(tx, locked.row, 'replayed', action);
  const rows = await query<DeliveryRow>(
    tx,
    sql`SELECT ${deliveryColumns()} FROM deliveries d WHERE d.id = ${deliveryId}`,
  );
  const d = rows[0];
  if (!d) {
    throw new Error(`replayDeadLetter: delivery ${deliveryId} vanished inside its transaction`);
  }
  return { outcome: 'replayed', delivery: { ...deliveryTracking(deliveryFromRow(d)), messageId: d.message_id } };
}

/**
 * Gives a dead letter up for good: status `failed`, who discarded it, when and why, `lastError` "discarded by
 * <client>: <reason>", and a `discarded` AuditEvent. Call inside a transaction. A discarded delivery is no longer listed or replayable.
 */
export async function discardDeadLetter(
  tx: Queryable,
  deliveryId: string,
  action: OperatorAction,
): Promise<DiscardResult> {
  const locked = await lockDeadLetter(tx, deliveryId);
  if (locked.outcome !== 'ok') {
    return locked;
  }
  await recordDeliveryAttempt(tx, deliveryId, {
    status: 'failed',
    error: `${DISCARD_PREFIX}${action.clientId}: ${action.reason}`,
    countsAsAttempt: false,
  });
  await query(
    tx,
    sql`UPDATE deliveries SET discarded_at = now(), discarded_by = ${action.clientId}, discard_reason = ${action.reason}
         WHERE id = ${deliveryId}`,
  );
  await audit(tx, locked.row, 'discarded', action);
  const deadLetter = await getDeadLetter(tx, deliveryId);
  if (!deadLetter) {
    throw new Error(`discardDeadLetter: delivery ${deliveryId} vanished inside its transaction`);
  }
  return { outcome: 'discarded-now', deadLetter };
}

async function lockDeadLetter(
  tx: Queryable,
  deliveryId: string,
): Promise<{ outcome: 'ok'; row: LockedDelivery } | NotApplicable> {
  // FOR UPDATE: two operators replaying the same letter at once make one replay, not two.
  const rows = await query<LockedDelivery>(
    tx,
    sql`SELECT ${deliveryColumns()}, m.kind, m.message_header_id, m.sender_client_id, m.sender_org_system, m.sender_org_value
          FROM deliveries d JOIN messages m ON m.id = d.message_id
         WHERE d.id = ${deliveryId} FOR UPDATE OF d`,
  );
  const row = rows[0];
  if (!row) {
    return { outcome: 'not-found' };
  }
  if (!isDeadLetterStatus(row.status)) {
    return { outcome: 'not-a-dead-letter', status: row.status };
  }
  if (row.discarded_at !== null) {
    return { outcome: 'discarded' };
  }
  return { outcome: 'ok', row };
}

async function audit(
  tx: Queryable,
  row: LockedDelivery,
  action: 'replayed' | 'discarded',
  by: OperatorAction,
): Promise<void> {
  // No patient CPR: an operator's action is not a disclosure, so it stays out of the citizen's disclosure
  // log (the delivery that follows a replay writes its own `delivered` event with the patient).
  await recordAudit(tx, {
    action,
    messageKind: row.kind,
    messageId: row.message_id,
    messageHeaderId: row.message_header_id,
    sender: {
      clientId: row.sender_client_id,
      organization: { system: row.sender_org_system ?? '', value: row.sender_org_value ?? '' },
    },
    recipient: { system: row.recipient_system, value: row.recipient_value, name: row.recipient_name ?? undefined },
    dataClasses: [row.kind],
    reason: `by ${by.clientId}: ${by.reason}`,
    operator: { clientId: by.clientId },
  });
}

function isDeadLetterStatus(status: DeliveryStatus): status is DeadLetterStatus {
  return (DEAD_LETTER_STATUSES as readonly DeliveryStatus[]).includes(status);
}

/** Only `dead` and `failed` rows are read as dead letters (IS_DEAD_LETTER). */
function deadLetter(r: DeadLetterRow): DeadLetter {
  const d = deliveryFromRow(r);
  return {
    id: d.id,
    messageId: d.messageId,
    kind: r.kind,
    recipient: { sor: d.recipient.value, name: d.recipient.name },
    endpoint: d.endpointAddress,
    status: d.status as DeadLetterStatus,
    attempts: d.attempts,
    reason: d.lastError,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    failedAt: iso(r.failed_at),
    messageCreatedAt: iso(r.message_created_at),
    discarded: d.discard !== undefined,
  };
}

function iso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString();
}
