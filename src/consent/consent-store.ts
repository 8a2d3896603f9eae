import type { Consent } from 'fhir/r4';
import { json, type Queryable } from '../store/db';

export interface ConsentRow {
  id: string;
  patient_cpr: string;
  status: string;
  version: number;
  recorded_by_client: string;
  recorded_by_org: string;
  resource: Consent;
}

const COLUMNS = 'id, patient_cpr, status, version, recorded_by_client, recorded_by_org, resource';

export async function insertConsent(tx: Queryable, row: Omit<ConsentRow, 'version'>): Promise<void> {
  await tx.query(
    `INSERT INTO consents (id, patient_cpr, status, recorded_by_client, recorded_by_org, resource) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    [row.id, row.patient_cpr, row.status, row.recorded_by_client, row.recorded_by_org, json(row.resource)],
  );
}

export async function updateConsent(tx: Queryable, id: string, resource: Consent, status: string, expectedVersion: number): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE consents SET resource = $2::jsonb, status = $3, version = version + 1, updated_at = now() WHERE id = $1 AND version = $4 RETURNING id`,
    [id, json(resource), status, expectedVersion],
  );
  return rows.length === 1;
}

export async function getConsent(db: Queryable, id: string): Promise<ConsentRow | undefined> {
  return (await db.query<ConsentRow>(`SELECT ${COLUMNS} FROM consents WHERE id = $1`, [id]))[0];
}

export async function searchConsents(db: Queryable, q: { patientCpr?: string; status?: string }): Promise<ConsentRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.patientCpr) {
    params.push(q.patientCpr);
    where.push(`patient_cpr = $${params.length}`);
  }
  if (q.status) {
    params.push(q.status);
    where.push(`status = $${params.length}`);
  }
  return db.query<ConsentRow>(`SELECT ${COLUMNS} FROM consents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT 500`, params);
}

/** The patient's consents that can affect a decision now (active ones; the evaluator checks periods). */
export async function activeConsentsFor(db: Queryable, patientCpr: string): Promise<Consent[]> {
  const rows = await db.query<{ resource: Consent }>(`SELECT resource FROM consents WHERE patient_cpr = $1 AND status = 'active'`, [patientCpr]);
  return rows.map((r) => r.resource);
}
