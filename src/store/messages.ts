import type { Bundle, OperationOutcome } from 'fhir/r4';
import { recordSubscriptionEvents } from '../subscriptions/publish-events';
import { json, type Queryable } from './db';
import { parseStoredJson } from '../json/json-text';
import type { Sector } from '../consent/evaluate-consent';
import type { MessageKind } from '../messages/message-kinds';
import {
  deliveryColumns,
  deliveryFromRow,
  FINAL_DELIVERY_STATUSES,
  type Delivery,
  type DeliveryRow,
  type DeliveryStatus,
} from './delivery-row';
import {
  messageColumns,
  messageFromRow,
  type AcceptedResponse,
  type MessageDisclosure,
  type MessageRow,
  type MessageStatus,
} from './message-row';
import { query, raw, sql, type Sql } from './sql';
import { CACHE_VERSIONS_SQL } from '../cache/lookup-cache';

const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';

export { FINAL_DELIVERY_STATUSES, type DeliveryStatus } from './delivery-row';
export type { AcceptedResponse, MessageDisclosure, MessageStatus } from './message-row';

/**
 * Messages and their per-recipient deliveries. A message's status is derived from its deliveries, so it
 * is recomputed in the same transaction whenever a delivery changes.
 */
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
  kind: MessageKind;
  senderClientId: string;
  senderRole: string;
  /** The sector the message comes from: a fact of the message, read by the consent check before delivery. */
  senderSector: Sector;
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
  /** Delivered ahead of routine traffic (symptom-report alerts): the relay queues it first, at the head. */
  urgent?: boolean | undefined;
}

/**
 * Stores the message, its deliveries and their outbox entries: call inside one transaction.
 * Returns how many subscription events the message made (0: no subscriber needs waking).
 */
export async function insertMessage(tx: Queryable, m: NewMessage): Promise<number> {
  await query(
    tx,
    sql`INSERT INTO messages (id, kind, status, sender_client_id, sender_role, sender_org_system, sender_org_value,
          patient_cpr, message_header_id, idempotency_key, request_hash, response, disclosure, task_id, certificate_id,
          sender_sector)
        VALUES (${m.id}, ${m.kind}, 'accepted', ${m.senderClientId}, ${m.senderRole}, ${m.senderOrg.system},
          ${m.senderOrg.value}, ${m.patientCpr ?? null}, ${m.messageHeaderId}, ${m.idempotencyKey ?? null},
          ${m.requestHash}, ${json(m.response)}::jsonb, ${m.disclosure ? json(m.disclosure) : null}::jsonb,
          ${m.taskId ?? null}, ${m.certificateId ?? null}, ${m.senderSector})`,
  );
  for (const d of m.deliveries) {
    // Delivery and outbox entry in one statement: intake is bound by round trips, not by SQL work.
    await query(
      tx,
      sql`WITH d AS (
            INSERT INTO deliveries (id, message_id, recipient_system, recipient_value, recipient_name, endpoint_address,
              connection_type, bundle, status)
            VALUES (${d.id}, ${m.id}, ${d.recipientSystem ?? SOR_SYSTEM}, ${d.recipientSor}, ${d.recipientName ?? null},
              ${d.endpointAddress}, ${d.connectionType}, ${json(d.bundle)}::jsonb, 'pending') RETURNING id)
          INSERT INTO outbox (delivery_id, urgent) SELECT id, ${m.urgent === true} FROM d`,
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
  /** The recipient's acknowledgement: its code and, for MedCom, the MSG_* error code. */
  acknowledgement?: { code: string; errorCode: string | null };
}

export interface MessageTracking {
  id: string;
  kind: MessageKind;
  status: MessageStatus;
  createdAt: string;
  updatedAt: string;
  sender: { clientId: string; organization: { system: string | null; value: string | null } };
  messageHeaderId: string;
  outcome: OperationOutcome;
  deliveries: DeliveryTracking[];
}

/** A message and its deliveries as the sender tracks them (GET /messages/{id}); undefined when unknown. */
export async function getMessageTracking(db: Queryable, id: string): Promise<MessageTracking | undefined> {
  const rows = await query<MessageRow>(db, sql`SELECT ${messageColumns()} FROM messages m WHERE m.id = ${id}`);
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  const deliveries = await query<DeliveryRow>(
    db,
    sql`SELECT ${deliveryColumns()} FROM deliveries d WHERE d.message_id = ${id} ORDER BY d.created_at, d.id`,
  );
  const m = messageFromRow(row);
  return {
    id: m.id,
    kind: m.kind,
    status: m.status,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    sender: { clientId: m.senderClientId, organization: m.senderOrg },
    messageHeaderId: m.messageHeaderId,
    outcome: m.response.outcome,
    deliveries: deliveries.map((d) => deliveryTracking(deliveryFromRow(d))),
  };
}

/** A delivery as its sender sees it: no Bundle, the recipient by its identifier value. */
export function deliveryTracking(d: Delivery): DeliveryTracking {
  return {
    id: d.id,
    recipient: { sor: d.recipient.value, name: d.recipient.name },
    endpoint: d.endpointAddress,
    status: d.status,
    attempts: d.attempts,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    lastError: d.lastError,
    ...(d.acknowledgement ? { acknowledgement: d.acknowledgement } : {}),
  };
}

/** One delivery with the facts of its message a worker needs, and the Bundle to send. */
export interface DeliveryWork {
  id: string;
  messageId: string;
  kind: MessageKind;
  status: DeliveryStatus;
  attempts: number;
  endpointAddress: string;
  connectionType: string;
  recipientSystem: string;
  /** The recipient identifier's value in recipientSystem (a SOR code in health care). */
  recipientValue: string;
  recipientName: string | null;
  messageHeaderId: string;
  disclosure: MessageDisclosure | null;
  taskId: string | null;
  patientCpr: string | null;
  senderClientId: string;
  senderRole: string;
  senderSector: Sector;
  senderOrg: { system: string; value: string };
  acceptedAt: Date;
  bundle: Bundle;
  /** The directory and consent versions when this was read: the fence for cached lookups (src/cache). */
  cacheVersions?: unknown;
}

/** Everything a worker needs for one delivery (job data holds only the delivery id: no PHI in Redis). */
export async function loadDeliveryWork(db: Queryable, deliveryId: string): Promise<DeliveryWork | undefined> {
  return (await loadDeliveryWorkWhere(db, sql`d.id = ${deliveryId}`))[0];
}

/** The deliveries of the message with this MessageHeader.id (acknowledgements name it). */
export async function loadDeliveryWorkByMessageHeader(db: Queryable, messageHeaderId: string): Promise<DeliveryWork[]> {
  return loadDeliveryWorkWhere(db, sql`m.message_header_id = ${messageHeaderId}`);
}

/** The message columns a delivery's work needs (the ones whose names a delivery does not have too). */
type WorkRow = DeliveryRow &
  Pick<
    MessageRow,
    | 'kind'
    | 'message_header_id'
    | 'disclosure'
    | 'task_id'
    | 'patient_cpr'
    | 'sender_client_id'
    | 'sender_role'
    | 'sender_sector'
    | 'sender_org_system'
    | 'sender_org_value'
  > & { message_created_at: Date | string; bundle: string; cache_versions: unknown };

async function loadDeliveryWorkWhere(db: Queryable, where: Sql): Promise<DeliveryWork[]> {
  const rows = await query<WorkRow>(
    db,
    sql`SELECT ${raw(CACHE_VERSIONS_SQL)} AS cache_versions, ${deliveryColumns()}, m.kind, m.message_header_id, m.disclosure, m.task_id, m.patient_cpr,
               m.sender_client_id, m.sender_role, m.sender_sector, m.sender_org_system, m.sender_org_value,
               m.created_at AS message_created_at, d.bundle::text AS bundle
          FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE ${where}`,
  );
  return rows.map((r) => {
    const d = deliveryFromRow(r);
    return {
      id: d.id,
      messageId: d.messageId,
      kind: r.kind,
      status: d.status,
      attempts: d.attempts,
      endpointAddress: d.endpointAddress,
      connectionType: d.connectionType,
      recipientSystem: d.recipient.system,
      recipientValue: d.recipient.value,
      recipientName: d.recipient.name,
      messageHeaderId: r.message_header_id,
      disclosure: r.disclosure,
      taskId: r.task_id,
      patientCpr: r.patient_cpr,
      senderClientId: r.sender_client_id,
      senderRole: r.sender_role,
      senderSector: r.sender_sector,
      senderOrg: { system: r.sender_org_system ?? '', value: r.sender_org_value ?? '' },
      acceptedAt: r.message_created_at instanceof Date ? r.message_created_at : new Date(r.message_created_at),
      // As text and parsed here so a decimal written 0.60 is delivered as 0.60 (JSON.parse would make it 0.6).
      bundle: parseStoredJson(r.bundle) as Bundle,
      cacheVersions: r.cache_versions,
    };
  });
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
  const final = FINAL_DELIVERY_STATUSES.includes(result.status);
  const rows = await query<{ message_id: string; others: DeliveryStatus[] }>(
    tx,
    sql`WITH d AS (
          UPDATE deliveries SET status = ${result.status}, last_error = COALESCE(${result.error}::text, last_error),
              attempts = attempts + ${result.countsAsAttempt ? 1 : 0}::int,
              last_attempt_at = CASE WHEN ${result.countsAsAttempt}::boolean THEN now() ELSE last_attempt_at END,
              delivered_at = CASE WHEN ${result.status === 'delivered'}::boolean THEN now() ELSE delivered_at END,
              updated_at = now()
           WHERE id = ${deliveryId} RETURNING message_id),
        o AS (DELETE FROM outbox WHERE delivery_id = ${deliveryId} AND ${final}::boolean)
        SELECT d.message_id,
               ARRAY(SELECT x.status FROM deliveries x WHERE x.message_id = d.message_id AND x.id <> ${deliveryId}) AS others
          FROM d`,
  );
  const row = rows[0];
  if (!row) {
    return;
  }
  const status = aggregateStatus([result.status, ...row.others]);
  await query(
    tx,
    sql`UPDATE messages SET status = ${status}, updated_at = now() WHERE id = ${row.message_id} AND status <> ${status}`,
  );
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
