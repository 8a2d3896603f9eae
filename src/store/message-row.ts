import type { OperationOutcome } from 'fhir/r4';
import { toDate } from './delivery-row';
import { raw, type Sql } from './sql';
import type { Sector } from '../consent/evaluate-consent';
import type { MessageKind } from '../messages/message-kinds';

/**
 * The `messages` table: one row per message accepted at intake. `MessageRow` is the row as both drivers return
 * it; `messageFromRow` is the one translation to the domain `StoredMessage`. A message's status is derived from
 * its deliveries (aggregateStatus in messages.ts), recomputed in the transaction that changes one.
 */
export const MESSAGE_STATUSES = ['accepted', 'queued', 'delivered', 'failed', 'dead', 'blocked'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** What intake answered (202), kept so an idempotent replay answers the same. */
export interface AcceptedResponse {
  id: string;
  status: MessageStatus;
  outcome: OperationOutcome;
}

/** Purpose and data classes, where they are not simply "the document kind, for treatment". */
export interface MessageDisclosure {
  purpose: string;
  dataClasses: string[];
}

export interface MessageRow {
  id: string;
  kind: MessageKind;
  status: MessageStatus;
  sender_client_id: string;
  sender_role: string;
  sender_sector: Sector;
  sender_org_system: string | null;
  sender_org_value: string | null;
  patient_cpr: string | null;
  message_header_id: string;
  idempotency_key: string | null;
  request_hash: string;
  response: AcceptedResponse;
  disclosure: MessageDisclosure | null;
  task_id: string | null;
  certificate_id: string | null;
  /** The message a reply answers (migration 008); nothing writes it yet. */
  in_reply_to: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface StoredMessage {
  id: string;
  kind: MessageKind;
  status: MessageStatus;
  senderClientId: string;
  senderRole: string;
  senderSector: Sector;
  senderOrg: { system: string | null; value: string | null };
  patientCpr: string | null;
  messageHeaderId: string;
  idempotencyKey: string | null;
  requestHash: string;
  response: AcceptedResponse;
  disclosure: MessageDisclosure | null;
  taskId: string | null;
  certificateId: string | null;
  inReplyTo: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Every column, prefixed with a table alias (`m.` by default), in MessageRow's order. */
export function messageColumns(alias = 'm'): Sql {
  return raw(
    [
      'id',
      'kind',
      'status',
      'sender_client_id',
      'sender_role',
      'sender_sector',
      'sender_org_system',
      'sender_org_value',
      'patient_cpr',
      'message_header_id',
      'idempotency_key',
      'request_hash',
      'response',
      'disclosure',
      'task_id',
      'certificate_id',
      'in_reply_to',
      'created_at',
      'updated_at',
    ]
      .map((c) => `${alias}.${c}`)
      .join(', '),
  );
}

export function messageFromRow(r: MessageRow): StoredMessage {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    senderClientId: r.sender_client_id,
    senderRole: r.sender_role,
    senderSector: r.sender_sector,
    senderOrg: { system: r.sender_org_system, value: r.sender_org_value },
    patientCpr: r.patient_cpr,
    messageHeaderId: r.message_header_id,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    response: r.response,
    disclosure: r.disclosure,
    taskId: r.task_id,
    certificateId: r.certificate_id,
    inReplyTo: r.in_reply_to,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}
