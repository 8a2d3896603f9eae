import { raw, type Sql } from './sql';

/**
 * The `deliveries` table: one row per recipient of a message, holding the exact Bundle that recipient gets.
 * `DeliveryRow` is the row as both drivers return it; `deliveryFromRow` is the one translation to the domain
 * `Delivery`. The Bundle is not part of either: it is large, and read as text where it is needed so numbers keep
 * the precision they were written with (see loadDeliveryWork).
 */
export const DELIVERY_STATUSES = ['pending', 'queued', 'delivered', 'failed', 'dead', 'blocked'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const FINAL_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['delivered', 'failed', 'dead', 'blocked'];

export interface DeliveryRow {
  id: string;
  message_id: string;
  /** The recipient identifier's system: SOR for health care, a municipality code or CVR elsewhere. */
  recipient_system: string;
  /** The recipient identifier's value in recipient_system (migration 012 renamed it from recipient_sor). */
  recipient_value: string;
  recipient_name: string | null;
  endpoint_address: string;
  connection_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | string | null;
  delivered_at: Date | string | null;
  /** The recipient's acknowledgement (MedCom): its code and MSG_* error code. */
  ack_code: string | null;
  ack_error_code: string | null;
  /** Set together when an operator gave the dead letter up (the status is then `failed`). */
  discarded_at: Date | string | null;
  discarded_by: string | null;
  discard_reason: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface Delivery {
  id: string;
  messageId: string;
  recipient: { system: string; value: string; name: string | null };
  endpointAddress: string;
  connectionType: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  acknowledgement: { code: string; errorCode: string | null } | undefined;
  discard: { at: Date; by: string; reason: string } | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/** Every column but the Bundle, prefixed with a table alias (`d.` by default), in DeliveryRow's order. */
export function deliveryColumns(alias = 'd'): Sql {
  return raw(
    [
      'id',
      'message_id',
      'recipient_system',
      'recipient_value',
      'recipient_name',
      'endpoint_address',
      'connection_type',
      'status',
      'attempts',
      'last_error',
      'last_attempt_at',
      'delivered_at',
      'ack_code',
      'ack_error_code',
      'discarded_at',
      'discarded_by',
      'discard_reason',
      'created_at',
      'updated_at',
    ]
      .map((c) => `${alias}.${c}`)
      .join(', '),
  );
}

export function deliveryFromRow(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    messageId: r.message_id,
    recipient: { system: r.recipient_system, value: r.recipient_value, name: r.recipient_name },
    endpointAddress: r.endpoint_address,
    connectionType: r.connection_type,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    lastAttemptAt: dateOrNull(r.last_attempt_at),
    deliveredAt: dateOrNull(r.delivered_at),
    acknowledgement: r.ack_code ? { code: r.ack_code, errorCode: r.ack_error_code } : undefined,
    discard: r.discarded_at
      ? { at: toDate(r.discarded_at), by: r.discarded_by ?? '', reason: r.discard_reason ?? '' }
      : undefined,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

/** Both drivers return timestamptz as Date; a value read through jsonb or text arrives as a string. */
export function toDate(d: Date | string): Date {
  return d instanceof Date ? d : new Date(d);
}

export function dateOrNull(d: Date | string | null): Date | null {
  return d === null ? null : toDate(d);
}
