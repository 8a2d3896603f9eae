import type { NativeSickLeaveCertificate, CertificateStatus } from '../mappers/sick-leave/types';
import type { DeliveryRow } from '../store/delivery-row';
import type { MessageRow } from '../store/message-row';
import type { StoredPeriod } from '../mappers/sick-leave/checks';
import { SYSTEM } from '../mappers/systems';
import { json, type Queryable } from '../store/db';
import { isUuid } from '../store/uuid';

/** Certificates as accepted, and who received each (through the messages that carried it). */
export interface CertificateRow {
  id: string;
  patientCpr: string;
  issuerClientId: string;
  issuerOrg: string;
  kind: string;
  status: CertificateStatus;
  continues: string | null;
  replaces: string | null;
  certificate: NativeSickLeaveCertificate;
  createdAt: string;
}

interface Raw {
  id: string;
  patient_cpr: string;
  issuer_client_id: string;
  issuer_org: string;
  kind: string;
  status: CertificateStatus;
  continues: string | null;
  replaces: string | null;
  certificate: NativeSickLeaveCertificate;
  created_at: Date | string;
}

const row = (r: Raw): CertificateRow => ({
  id: r.id,
  patientCpr: r.patient_cpr,
  issuerClientId: r.issuer_client_id,
  issuerOrg: r.issuer_org,
  kind: r.kind,
  status: r.status,
  continues: r.continues,
  replaces: r.replaces,
  certificate: r.certificate,
  createdAt: new Date(r.created_at).toISOString(),
});

export async function insertCertificate(
  tx: Queryable,
  c: {
    id: string;
    issuerClientId: string;
    issuerOrg: string;
    certificate: NativeSickLeaveCertificate;
    idempotencyKey: string | undefined;
    requestHash: string;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO certificates (id, patient_cpr, issuer_client_id, issuer_org, kind, status, continues, replaces, period_start, period_end, certificate, idempotency_key, request_hash)
     VALUES ($1, $2, $3, $4, $5, 'current', $6, $7, $8, $9, $10::jsonb, $11, $12)`,
    [
      c.id,
      c.certificate.patient.cpr,
      c.issuerClientId,
      c.issuerOrg,
      c.certificate.kind,
      c.certificate.continues ?? null,
      c.certificate.replaces ?? null,
      c.certificate.period.from,
      c.certificate.period.expectedTo,
      json(c.certificate),
      c.idempotencyKey ?? null,
      c.requestHash,
    ],
  );
}

export async function getCertificate(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<CertificateRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const rows = await db.query<Raw>(
    `SELECT * FROM certificates WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? row(rows[0]) : undefined;
}

export async function findCertificateByIdempotencyKey(
  db: Queryable,
  clientId: string,
  key: string,
): Promise<{ id: string; status: CertificateStatus; requestHash: string } | undefined> {
  const rows = await db.query<{ id: string; status: CertificateStatus; request_hash: string }>(
    'SELECT id, status, request_hash FROM certificates WHERE issuer_client_id = $1 AND idempotency_key = $2',
    [clientId, key],
  );
  return rows[0] ? { id: rows[0].id, status: rows[0].status, requestHash: rows[0].request_hash } : undefined;
}

/** The patient's current certificates' periods, as YYYY-MM-DD. */
export async function currentPeriods(db: Queryable, cpr: string): Promise<StoredPeriod[]> {
  return db.query<StoredPeriod>(
    "SELECT id, to_char(period_start, 'YYYY-MM-DD') AS start, to_char(period_end, 'YYYY-MM-DD') AS end, issuer_org AS issuer FROM certificates WHERE patient_cpr = $1 AND status = 'current'",
    [cpr],
  );
}

export async function setCertificateStatus(tx: Queryable, id: string, status: CertificateStatus): Promise<void> {
  await tx.query('UPDATE certificates SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}

export interface CertificateRecipient {
  system: string;
  value: string;
  name: string | null;
  audience: 'jobcentre' | 'employer';
  /** Where its latest copy was delivered: notices fall back to it when the directory lists no endpoint now. */
  endpoint: { address: string; connectionType: string };
}

/**
 * Everyone a certificate was sent to, with the endpoint its latest copy went to. A copy that consent
 * blocked before delivery never reached its recipient, so that recipient does not count: a correction or
 * cancellation would otherwise tell it about a certificate it never saw.
 */
export async function certificateRecipients(db: Queryable, certificateId: string): Promise<CertificateRecipient[]> {
  const rows = await db.query<
    Pick<
      DeliveryRow,
      'recipient_system' | 'recipient_value' | 'recipient_name' | 'endpoint_address' | 'connection_type'
    >
  >(
    `SELECT DISTINCT ON (d.recipient_system, d.recipient_value) d.recipient_system, d.recipient_value, d.recipient_name, d.endpoint_address, d.connection_type
       FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE m.certificate_id = $1 AND m.kind = 'sick-leave-certificate' AND d.status <> 'blocked'
      ORDER BY d.recipient_system, d.recipient_value, d.created_at DESC`,
    [certificateId],
  );
  return rows.map((r) => ({
    system: r.recipient_system,
    value: r.recipient_value,
    name: r.recipient_name,
    audience: r.recipient_system === SYSTEM.cvr ? 'employer' : 'jobcentre',
    endpoint: { address: r.endpoint_address, connectionType: r.connection_type },
  }));
}

export async function certificateMessages(
  db: Queryable,
  certificateId: string,
): Promise<
  Array<{ id: string; kind: string; status: string; recipient: { system: string; value: string; name: string | null } }>
> {
  const rows = await db.query<
    Pick<MessageRow, 'id' | 'kind' | 'status'> &
      Pick<DeliveryRow, 'recipient_system' | 'recipient_value' | 'recipient_name'>
  >(
    `SELECT m.id, m.kind, m.status, d.recipient_system, d.recipient_value, d.recipient_name FROM messages m JOIN deliveries d ON d.message_id = m.id
      WHERE m.certificate_id = $1 ORDER BY m.created_at, m.id`,
    [certificateId],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    status: r.status,
    recipient: { system: r.recipient_system, value: r.recipient_value, name: r.recipient_name },
  }));
}
