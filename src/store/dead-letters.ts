import { recordAudit } from '../audit/record-audit';
import type { Queryable } from './db';
import { isUuid } from './uuid';
import { recordDeliveryAttempt, requeueDelivery, type DeliveryStatus, type DeliveryTracking } from './messages';

/**
 * Dead letters for operators: deliveries that ended `dead` (retries exhausted) or `failed` (refused for
 * good), with their message's routing facts but never its content. An admin replays one (it goes back
 * through the outbox with a fresh attempt budget) or discards it. A discard keeps the status set unchanged:
 * the delivery becomes `failed` with `lastError` "discarded by <client>: <reason>", and is then neither
 * listed nor replayable. Every replay and discard writes an AuditEvent in the same transaction.
 */
export const DEAD_LETTER_STATUSES = ['dead', 'failed'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** The `lastError` prefix that marks a discarded dead letter. */
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

interface DeadLetterRow {
  id: string;
  message_id: string;
  kind: string;
  recipient_sor: string;
  recipient_name: string | null;
  endpoint_address: string;
  status: DeadLetterStatus;
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | string | null;
  failed_at: Date | string;
  message_created_at: Date | string;
}

interface DeadLetterDetailRow extends DeadLetterRow {
  message_header_id: string;
  connection_type: string;
  sender_client_id: string;
  sender_org_system: string | null;
  sender_org_value: string | null;
  bundle_id: string | null;
  bundle_type: string | null;
  entry_count: number | null;
  resource_types: string[] | null;
}

// Timestamps are cut to milliseconds in SQL so the cursor (a JavaScript instant) compares exactly.
const FAILED_AT = "date_trunc('milliseconds', d.updated_at)";
const COLUMNS = `d.id, d.message_id, m.kind, d.recipient_sor, d.recipient_name, d.endpoint_address, d.status, d.attempts,
  d.last_error, d.last_attempt_at, ${FAILED_AT} AS failed_at, m.created_at AS message_created_at`;
const IS_DEAD_LETTER = `d.status IN ('dead', 'failed')`;
const NOT_DISCARDED = `COALESCE(d.last_error, '') NOT LIKE '${DISCARD_PREFIX}%'`;

/** Dead and failed deliveries that are not discarded, newest failure first, one page at a time. */
export async function listDeadLetters(db: Queryable, q: DeadLetterQuery): Promise<{ items: DeadLetter[]; next?: string }> {
  const where = [IS_DEAD_LETTER, NOT_DISCARDED];
  const params: unknown[] = [];
  if (q.kind) {
    params.push(q.kind);
    where.push(`m.kind = $${params.length}`);
  }
  const cursor = q.before === undefined ? undefined : parseDeadLetterCursor(q.before);
  if (q.before !== undefined && !cursor) {
    throw new Error(`listDeadLetters: bad cursor ${q.before}`);
  }
  if (cursor) {
    params.push(cursor.at);
    if (cursor.id) {
      params.push(cursor.id);
      where.push(`(${FAILED_AT}, d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    } else {
      where.push(`${FAILED_AT} < $${params.length}::timestamptz`);
    }
  }
  params.push(q.limit + 1);
  const rows = await db.query<DeadLetterRow>(
    `SELECT ${COLUMNS} FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE ${where.join(' AND ')} ORDER BY ${FAILED_AT} DESC, d.id DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, q.limit).map(deadLetter);
  const last = items[items.length - 1];
  return rows.length > q.limit && last ? { items, next: `${last.failedAt}~${last.id}` } : { items };
}

/** A dead or failed delivery (discarded ones too) with its message's routing facts and the Bundle's shape; undefined otherwise. */
export async function getDeadLetter(db: Queryable, deliveryId: string): Promise<DeadLetterDetail | undefined> {
  const rows = await db.query<DeadLetterDetailRow>(
    `SELECT ${COLUMNS}, m.message_header_id, d.connection_type, m.sender_client_id, m.sender_org_system, m.sender_org_value,
            d.bundle->>'id' AS bundle_id, d.bundle->>'type' AS bundle_type,
            jsonb_array_length(COALESCE(d.bundle->'entry', '[]'::jsonb)) AS entry_count,
            (SELECT jsonb_agg(DISTINCT e->'resource'->>'resourceType' ORDER BY e->'resource'->>'resourceType')
               FROM jsonb_array_elements(COALESCE(d.bundle->'entry', '[]'::jsonb)) e) AS resource_types
       FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE d.id = $1 AND ${IS_DEAD_LETTER}`,
    [deliveryId],
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
    sender: { clientId: row.sender_client_id, organization: { system: row.sender_org_system, value: row.sender_org_value } },
    bundle: { id: row.bundle_id, type: row.bundle_type, entryCount: row.entry_count ?? 0, resourceTypes: (row.resource_types ?? []).filter(Boolean) },
    replayable: !base.discarded,
  };
}

/** Ids of the replayable dead letters, oldest message first (so a bulk replay keeps the sending order). */
export async function replayableDeadLetterIds(db: Queryable, q: { kind?: string | undefined; limit: number }): Promise<string[]> {
  const params: unknown[] = [];
  const where = [IS_DEAD_LETTER, NOT_DISCARDED];
  if (q.kind) {
    params.push(q.kind);
    where.push(`m.kind = $${params.length}`);
  }
  params.push(q.limit);
  const rows = await db.query<{ id: string }>(
    `SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE ${where.join(' AND ')} ORDER BY m.created_at, d.created_at, d.id LIMIT $${params.length}`,
    params,
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
export type NotApplicable = { outcome: 'not-found' } | { outcome: 'not-a-dead-letter'; status: DeliveryStatus } | { outcome: 'discarded' };

export type ReplayResult = { outcome: 'replayed'; delivery: DeliveryTracking & { messageId: string } } | NotApplicable;
export type DiscardResult = { outcome: 'discarded-now'; deadLetter: DeadLetterDetail } | NotApplicable;

interface LockedDelivery {
  status: DeliveryStatus;
  last_error: string | null;
  message_id: string;
  kind: string;
  message_header_id: string;
  recipient_system: string;
  recipient_sor: string;
  recipient_name: string | null;
  sender_client_id: string;
  sender_org_system: string | null;
  sender_org_value: string | null;
}

/**
 * Sends a dead or failed delivery again: attempts back to 0, status pending, a fresh outbox entry (so a new
 * job with the full retry budget), and a `replayed` AuditEvent. Call inside a transaction, then wake the relay.
 * The message keeps its MessageHeader.id, so a receiver that already has it de-duplicates.
 */
export async function replayDeadLetter(tx: Queryable, deliveryId: string, action: OperatorAction): Promise<ReplayResult> {
  const locked = await lockDeadLetter(tx, deliveryId);
  if (locked.outcome !== 'ok') {
    return locked;
  }
  await tx.query('UPDATE deliveries SET attempts = 0, updated_at = now() WHERE id = $1', [deliveryId]);
  await requeueDelivery(tx, deliveryId, `replayed by ${action.clientId}: ${action.reason}`);
  await audit(tx, locked.row, 'replayed', action);
  const rows = await tx.query<{
    id: string; message_id: string; recipient_sor: string; recipient_name: string | null; endpoint_address: string; status: DeliveryStatus;
    attempts: number; last_attempt_at: Date | string | null; delivered_at: Date | string | null; last_error: string | null;
  }>(
    `SELECT id, message_id, recipient_sor, recipient_name, endpoint_address, status, attempts, last_attempt_at, delivered_at, last_error
       FROM deliveries WHERE id = $1`,
    [deliveryId],
  );
  const d = rows[0];
  if (!d) {
    throw new Error(`replayDeadLetter: delivery ${deliveryId} vanished inside its transaction`);
  }
  return {
    outcome: 'replayed',
    delivery: {
      id: d.id,
      messageId: d.message_id,
      recipient: { sor: d.recipient_sor, name: d.recipient_name },
      endpoint: d.endpoint_address,
      status: d.status,
      attempts: d.attempts,
      lastAttemptAt: isoOrNull(d.last_attempt_at),
      deliveredAt: isoOrNull(d.delivered_at),
      lastError: d.last_error,
    },
  };
}

/**
 * Gives a dead letter up for good: status `failed`, `lastError` "discarded by <client>: <reason>", and a
 * `discarded` AuditEvent. Call inside a transaction. A discarded delivery is no longer listed or replayable.
 */
export async function discardDeadLetter(tx: Queryable, deliveryId: string, action: OperatorAction): Promise<DiscardResult> {
  const locked = await lockDeadLetter(tx, deliveryId);
  if (locked.outcome !== 'ok') {
    return locked;
  }
  await recordDeliveryAttempt(tx, deliveryId, { status: 'failed', error: `${DISCARD_PREFIX}${action.clientId}: ${action.reason}`, countsAsAttempt: false });
  await audit(tx, locked.row, 'discarded', action);
  const deadLetter = await getDeadLetter(tx, deliveryId);
  if (!deadLetter) {
    throw new Error(`discardDeadLetter: delivery ${deliveryId} vanished inside its transaction`);
  }
  return { outcome: 'discarded-now', deadLetter };
}

async function lockDeadLetter(tx: Queryable, deliveryId: string): Promise<{ outcome: 'ok'; row: LockedDelivery } | NotApplicable> {
  // FOR UPDATE: two operators replaying the same letter at once make one replay, not two.
  const rows = await tx.query<LockedDelivery>(
    `SELECT d.status, d.last_error, d.message_id, m.kind, m.message_header_id, d.recipient_system, d.recipient_sor, d.recipient_name,
            m.sender_client_id, m.sender_org_system, m.sender_org_value
       FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE d.id = $1 FOR UPDATE OF d`,
    [deliveryId],
  );
  const row = rows[0];
  if (!row) {
    return { outcome: 'not-found' };
  }
  if (!isDeadLetterStatus(row.status)) {
    return { outcome: 'not-a-dead-letter', status: row.status };
  }
  if (isDiscarded(row.last_error)) {
    return { outcome: 'discarded' };
  }
  return { outcome: 'ok', row };
}

async function audit(tx: Queryable, row: LockedDelivery, action: 'replayed' | 'discarded', by: OperatorAction): Promise<void> {
  // No patient CPR: an operator's action is not a disclosure, so it stays out of the citizen's disclosure
  // log (the delivery that follows a replay writes its own `delivered` event with the patient).
  await recordAudit(tx, {
    action,
    messageKind: row.kind,
    messageId: row.message_id,
    messageHeaderId: row.message_header_id,
    sender: { clientId: row.sender_client_id, organization: { system: row.sender_org_system ?? '', value: row.sender_org_value ?? '' } },
    recipient: { system: row.recipient_system, value: row.recipient_sor, name: row.recipient_name ?? undefined },
    dataClasses: [row.kind],
    reason: `by ${by.clientId}: ${by.reason}`,
    operator: { clientId: by.clientId },
  });
}

function isDeadLetterStatus(status: DeliveryStatus): status is DeadLetterStatus {
  return (DEAD_LETTER_STATUSES as readonly DeliveryStatus[]).includes(status);
}

function isDiscarded(lastError: string | null): boolean {
  return lastError?.startsWith(DISCARD_PREFIX) ?? false;
}

function deadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    messageId: r.message_id,
    kind: r.kind,
    recipient: { sor: r.recipient_sor, name: r.recipient_name },
    endpoint: r.endpoint_address,
    status: r.status,
    attempts: r.attempts,
    reason: r.last_error,
    lastAttemptAt: isoOrNull(r.last_attempt_at),
    failedAt: iso(r.failed_at),
    messageCreatedAt: iso(r.message_created_at),
    discarded: isDiscarded(r.last_error),
  };
}

function iso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString();
}

function isoOrNull(d: Date | string | null): string | null {
  return d === null ? null : iso(d);
}
