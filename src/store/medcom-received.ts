import type { Bundle } from 'fhir/r4';
import { json, type Queryable } from './db';

/**
 * MedCom messages the gateway received and the acknowledgement it answered each with (migration 007), for
 * de-duplication by (MessageHeader.id, Bundle.id) as MedCom reliable messaging describes.
 */
export interface ReceivedMedCom {
  messageHeaderId: string;
  bundleId: string;
  messageId: string | null;
  ackCode: string;
  ackErrorCode: string | null;
  ack: Bundle;
}

/** Earlier receipts of this MessageHeader.id, and of this Bundle.id under another MessageHeader.id. */
export async function findReceived(
  db: Queryable,
  messageHeaderId: string,
  bundleId: string,
): Promise<{ sameHeader: ReceivedMedCom[]; sameBundleOtherHeader: boolean }> {
  const rows = await db.query<{
    message_header_id: string;
    bundle_id: string;
    message_id: string | null;
    ack_code: string;
    ack_error_code: string | null;
    ack: Bundle;
  }>(
    `SELECT message_header_id, bundle_id, message_id, ack_code, ack_error_code, ack FROM medcom_received
      WHERE message_header_id = $1 OR bundle_id = $2 ORDER BY received_at`,
    [messageHeaderId, bundleId],
  );
  return {
    sameHeader: rows
      .filter((r) => r.message_header_id === messageHeaderId)
      .map((r) => ({
        messageHeaderId: r.message_header_id,
        bundleId: r.bundle_id,
        messageId: r.message_id,
        ackCode: r.ack_code,
        ackErrorCode: r.ack_error_code,
        ack: r.ack,
      })),
    sameBundleOtherHeader: rows.some((r) => r.message_header_id !== messageHeaderId),
  };
}

export async function recordReceived(tx: Queryable, r: ReceivedMedCom): Promise<void> {
  await tx.query(
    `INSERT INTO medcom_received (message_header_id, bundle_id, message_id, ack_code, ack_error_code, ack)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (message_header_id, bundle_id) DO NOTHING`,
    [r.messageHeaderId, r.bundleId, r.messageId, r.ackCode, r.ackErrorCode, json(r.ack)],
  );
}

/** The acknowledgement a delivery got, for tracking (code and MedCom MSG_* error code). */
export async function recordDeliveryAcknowledgement(
  tx: Queryable,
  deliveryId: string,
  code: string,
  errorCode: string | undefined,
): Promise<void> {
  await tx.query('UPDATE deliveries SET ack_code = $2, ack_error_code = $3 WHERE id = $1', [
    deliveryId,
    code,
    errorCode ?? null,
  ]);
}

/** Which message a reply answers (a MedCom Provenance reply-message naming a MessageHeader this gateway sent). */
export async function recordInReplyTo(tx: Queryable, messageId: string, originalMessageId: string): Promise<void> {
  await tx.query('UPDATE messages SET in_reply_to = $2 WHERE id = $1', [messageId, originalMessageId]);
}
