import type { Bundle, OperationOutcome } from 'fhir/r4';
import { recordSubscriptionEvents } from '../subscriptions/publish-events';
import { json, type Queryable } from './db';

const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';

/**
 * Messages and their per-recipient deliveries. A message's status is derived from its deliveries, so it
 * is recomputed in the same transaction whenever a delivery changes.
 */
export type DeliveryStatus = 'pending' | 'queued' | 'delivered' | 'failed' | 'dead' | 'blocked';
export type MessageStatus = 'accepted' | 'queued' | 'delivered' | 'failed' | 'dead' | 'blocked';
export const FINAL_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['delivered', 'failed', 'dead', 'blocked'];

export interface AcceptedResponse {
  id: string;
  status: MessageStatus;
  outcome: OperationOutcome;
}

export interface NewDelivery {
  id: string;
  /** The recipient's identifier system: SOR for health care, a municipality code or CVR elsewhere. */
  recipientSystem?: string | undefined;
  recipientSor: string;
  recipientName: string | undefined;
  endpointAddress: string;
  connectionType: string;
  bundle: Bundle;
}

export interface NewMessage {
  id: string;
  kind: string;
  senderClientId: string;
  senderRole: string;
  senderOrg: { system: string; value: string };
  patientCpr: string | undefined;
  messageHeaderId: string;
  idempotencyKey: string | undefined;
  requestHash: string;
  response: AcceptedResponse;
  deliveries: NewDelivery[];
  /** Purpose and data classes, where they are not simply "the document kind, for treatment". */
  disclosure?: MessageDisclosure | undefined;
  taskId?: string | undefined;
  certificateId?: string | undefined;
}

export interface MessageDisclosure {
  purpose: string;
  dataClasses: string[];
}

/** Stores the message, its deliveries and their outbox entries: call inside one transaction. */
/** Returns how many subscription events the message made (0: no subscriber needs waking). */
export async function insertMessage(tx: Queryable, m: NewMessage): Promise<number> {
  await tx.query(
    `INSERT INTO messages (id, kind, status, sender_client_id, sender_role, sender_org_system, sender_org_value, patient_cpr,
       message_header_id, idempotency_key, request_hash, response, disclosure, task_id, certificate_id)
     VALUES ($1, $2, 'accepted', $3, $11, $4, $5, $6, $7, $8, $9, $10::jsonb, $12::jsonb, $13, $14)`,
    [
      m.id, m.kind, m.senderClientId, m.senderOrg.system, m.senderOrg.value, m.patientCpr ?? null, m.messageHeaderId, m.idempotencyKey ?? null,
      m.requestHash, json(m.response), m.senderRole, m.disclosure ? json(m.disclosure) : null, m.taskId ?? null, m.certificateId ?? null,
    ],
  );
  for (const d of m.deliveries) {
    // Delivery and outbox entry in one statement: intake is bound by round trips, not by SQL work.
    await tx.query(
      `WITH d AS (
         INSERT INTO deliveries (id, message_id, recipient_sor, recipient_name, endpoint_address, connection_type, bundle, status, recipient_system)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'pending', $8) RETURNING id)
       INSERT INTO outbox (delivery_id) SELECT id FROM d`,
      [d.id, m.id, d.recipientSor, d.recipientName ?? null, d.endpointAddress, d.connectionType, json(d.bundle), d.recipientSystem ?? SOR_SYSTEM],
    );
  }
  return recordSubscriptionEvents(tx, m);
}

export async function findByIdempotencyKey(
  db: Queryable,
  clientId: string,
  key: string,
): Promise<{ request_hash: string; response: AcceptedResponse } | undefined> {
  const rows = await db.query<{ request_hash: string; response: AcceptedResponse }>(
    'SELECT request_hash, response FROM messages WHERE sender_client_id = $1 AND idempotency_key = $2',
    [clientId, key],
  );
  return rows[0];
}

export interface DeliveryTracking {
  id: string;
  recipient: { sor: string; name: string | null };
  endpoint: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
}

export interface MessageTracking {
  id: string;
  kind: string;
  status: MessageStatus;
  createdAt: string;
  updatedAt: string;
  sender: { clientId: string; organization: { system: string | null; value: string | null } };
  messageHeaderId: string;
  outcome: OperationOutcome;
  deliveries: DeliveryTracking[];
}

interface MessageRow {
  id: string;
  kind: string;
  status: MessageStatus;
  created_at: Date;
  updated_at: Date;
  sender_client_id: string;
  sender_org_system: string | null;
  sender_org_value: string | null;
  message_header_id: string;
  response: AcceptedResponse;
}

interface DeliveryRow {
  id: string;
  message_id: string;
  recipient_sor: string;
  recipient_name: string | null;
  endpoint_address: string;
  connection_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
}

const MESSAGE_COLUMNS = 'id, kind, status, created_at, updated_at, sender_client_id, sender_org_system, sender_org_value, message_header_id, response';
const DELIVERY_COLUMNS = 'id, message_id, recipient_sor, recipient_name, endpoint_address, connection_type, status, attempts, last_error, last_attempt_at, delivered_at';

export async function getMessageTracking(db: Queryable, id: string): Promise<MessageTracking | undefined> {
  const rows = await db.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  const deliveries = await db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE message_id = $1 ORDER BY created_at, id`, [id]);
  return { ...summary(row), outcome: row.response.outcome, deliveries: deliveries.map(deliveryTracking) };
}

function summary(row: MessageRow): Omit<MessageTracking, 'outcome' | 'deliveries'> {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    sender: { clientId: row.sender_client_id, organization: { system: row.sender_org_system, value: row.sender_org_value } },
    messageHeaderId: row.message_header_id,
  };
}

function deliveryTracking(d: DeliveryRow): DeliveryTracking {
  return {
    id: d.id,
    recipient: { sor: d.recipient_sor, name: d.recipient_name },
    endpoint: d.endpoint_address,
    status: d.status,
    attempts: d.attempts,
    lastAttemptAt: d.last_attempt_at ? iso(d.last_attempt_at) : null,
    deliveredAt: d.delivered_at ? iso(d.delivered_at) : null,
    lastError: d.last_error,
  };
}

export interface MessageListQuery {
  status?: MessageStatus | undefined;
  kind?: string | undefined;
  limit: number;
  /** Cursor: list messages created before this ISO instant. */
  before?: string | undefined;
}

export async function listMessages(db: Queryable, q: MessageListQuery): Promise<{ items: Array<Omit<MessageTracking, 'outcome' | 'deliveries'>>; next?: string }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.status) {
    params.push(q.status);
    where.push(`status = $${params.length}`);
  }
  if (q.kind) {
    params.push(q.kind);
    where.push(`kind = $${params.length}`);
  }
  if (q.before) {
    params.push(q.before);
    where.push(`created_at < $${params.length}::timestamptz`);
  }
  params.push(q.limit + 1);
  const rows = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, q.limit).map(summary);
  const last = items[items.length - 1];
  return rows.length > q.limit && last ? { items, next: last.createdAt } : { items };
}

export interface DeliveryWork {
  id: string;
  messageId: string;
  kind: string;
  status: DeliveryStatus;
  attempts: number;
  endpointAddress: string;
  connectionType: string;
  recipientSystem: string;
  recipientSor: string;
  recipientName: string | null;
  messageHeaderId: string;
  disclosure: MessageDisclosure | null;
  taskId: string | null;
  patientCpr: string | null;
  senderClientId: string;
  senderRole: string;
  senderOrg: { system: string; value: string };
  acceptedAt: Date;
  bundle: Bundle;
}

/** Everything a worker needs for one delivery (job data holds only the delivery id: no PHI in Redis). */
export async function loadDeliveryWork(db: Queryable, deliveryId: string): Promise<DeliveryWork | undefined> {
  return (await loadDeliveryWorkWhere(db, 'd.id = $1', [deliveryId]))[0];
}

/** The deliveries of the message with this MessageHeader.id (acknowledgements name it). */
export async function loadDeliveryWorkByMessageHeader(db: Queryable, messageHeaderId: string): Promise<DeliveryWork[]> {
  return loadDeliveryWorkWhere(db, 'm.message_header_id = $1', [messageHeaderId]);
}

async function loadDeliveryWorkWhere(db: Queryable, where: string, params: unknown[]): Promise<DeliveryWork[]> {
  const rows = await db.query<{
    id: string; message_id: string; kind: string; status: DeliveryStatus; attempts: number; endpoint_address: string;
    connection_type: string; recipient_system: string; recipient_sor: string; recipient_name: string | null; message_header_id: string; patient_cpr: string | null;
    disclosure: MessageDisclosure | null; task_id: string | null;
    sender_client_id: string; sender_role: string; sender_org_system: string | null; sender_org_value: string | null; created_at: Date; bundle: Bundle;
  }>(
    `SELECT d.id, d.message_id, m.kind, d.status, d.attempts, d.endpoint_address, d.connection_type, d.recipient_system, d.recipient_sor, d.recipient_name,
            m.message_header_id, m.disclosure, m.task_id, m.patient_cpr, m.sender_client_id, m.sender_role, m.sender_org_system, m.sender_org_value, m.created_at, d.bundle
       FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE ${where}`,
    params,
  );
  return rows.map((r) => ({
        id: r.id, messageId: r.message_id, kind: r.kind, status: r.status, attempts: r.attempts, endpointAddress: r.endpoint_address,
        connectionType: r.connection_type, recipientSystem: r.recipient_system, recipientSor: r.recipient_sor, recipientName: r.recipient_name,
        messageHeaderId: r.message_header_id, disclosure: r.disclosure, taskId: r.task_id,
        patientCpr: r.patient_cpr, senderClientId: r.sender_client_id, senderRole: r.sender_role,
        senderOrg: { system: r.sender_org_system ?? '', value: r.sender_org_value ?? '' }, acceptedAt: r.created_at, bundle: r.bundle,
  }));
}

/** Sends a finished delivery round again (a transient-error acknowledgement arrived after it was delivered). */
export async function requeueDelivery(tx: Queryable, deliveryId: string, reason: string): Promise<void> {
  await recordDeliveryAttempt(tx, deliveryId, { status: 'pending', error: reason, countsAsAttempt: false });
  await tx.query(
    'INSERT INTO outbox (delivery_id) VALUES ($1) ON CONFLICT (delivery_id) DO UPDATE SET created_at = now(), relayed_at = NULL',
    [deliveryId],
  );
}

/** Records the outcome of one attempt; a final status also empties the delivery's outbox entry. */
export async function recordDeliveryAttempt(
  tx: Queryable,
  deliveryId: string,
  result: { status: DeliveryStatus; error: string | null; countsAsAttempt: boolean },
): Promise<void> {
  // One statement updates the delivery, closes its outbox entry when final, and returns the other deliveries'
  // states (a statement sees the table as it was before its own updates); a second sets the message's status.
  const rows = await tx.query<{ message_id: string; others: DeliveryStatus[] }>(
    `WITH d AS (
       UPDATE deliveries SET status = $2, last_error = COALESCE($3, last_error),
           attempts = attempts + $4, last_attempt_at = CASE WHEN $4 > 0 THEN now() ELSE last_attempt_at END,
           delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
        WHERE id = $1 RETURNING message_id),
     o AS (DELETE FROM outbox WHERE delivery_id = $1 AND $5::boolean)
     SELECT d.message_id, ARRAY(SELECT x.status FROM deliveries x WHERE x.message_id = d.message_id AND x.id <> $1) AS others FROM d`,
    [deliveryId, result.status, result.error, result.countsAsAttempt ? 1 : 0, FINAL_DELIVERY_STATUSES.includes(result.status)],
  );
  const row = rows[0];
  if (!row) {
    return;
  }
  await tx.query('UPDATE messages SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2', [
    row.message_id,
    aggregateStatus([result.status, ...row.others]),
  ]);
}

/** A message is as far along as its least advanced delivery; any final failure is shown first. */
export function aggregateStatus(statuses: readonly DeliveryStatus[]): MessageStatus {
  for (const bad of ['blocked', 'dead', 'failed'] as const) {
    if (statuses.includes(bad)) {
      return bad;
    }
  }
  if (statuses.includes('pending')) {
    return 'accepted';
  }
  if (statuses.length > 0 && statuses.every((s) => s === 'delivered')) {
    return 'delivered';
  }
  return 'queued';
}

function iso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString();
}
