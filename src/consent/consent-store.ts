import type { Consent } from 'fhir/r4';
import { cachedQuery } from '../cache/lookup-cache';
import { json, type Queryable } from '../store/db';

export interface ConsentRow {
  id: string;
  patient_cpr: string;
  status: string;
  version: number;
  recorded_by_client: string;
  recorded_by_org: string;
  /** Who besides the patient and admins may change it (`system|value`); null once the patient or an admin has. */
  owner_org: string | null;
  resource: Consent;
}

const COLUMNS = 'id, patient_cpr, status, version, recorded_by_client, recorded_by_org, owner_org, resource';

/** Who made a version: the API client, its organisation (`system|value`) and role. */
export interface ConsentChanger {
  clientId: string;
  org: string;
  role: string;
}

export interface ConsentVersionRow {
  version: number;
  action: 'create' | 'update' | 'withdraw';
  status: string;
  changed_by_client: string;
  changed_by_org: string;
  changed_by_role: string | null;
  changed_at: Date;
  resource: Consent;
}

export async function insertConsent(
  tx: Queryable,
  row: Omit<ConsentRow, 'version' | 'recorded_by_client' | 'recorded_by_org'>,
  by: ConsentChanger,
): Promise<void> {
  await tx.query(
    `INSERT INTO consents (id, patient_cpr, status, recorded_by_client, recorded_by_org, owner_org, resource) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
    [row.id, row.patient_cpr, row.status, by.clientId, by.org, row.owner_org, json(row.resource)],
  );
  await insertVersion(tx, row.id, 1, 'create', row.status, row.resource, by);
}

/**
 * Stores the next version if the consent is still at `expectedVersion` (optimistic locking), keeping the one
 * before in consent_versions; false when someone else changed it meanwhile.
 */
export async function updateConsent(
  tx: Queryable,
  id: string,
  change: { resource: Consent; status: string; ownerOrg: string | null; action: 'update' | 'withdraw' },
  expectedVersion: number,
  by: ConsentChanger,
): Promise<boolean> {
  const rows = await tx.query<{ version: number }>(
    `UPDATE consents SET resource = $2::jsonb, status = $3, owner_org = $4, version = version + 1, updated_at = now() WHERE id = $1 AND version = $5 RETURNING version`,
    [id, json(change.resource), change.status, change.ownerOrg, expectedVersion],
  );
  const version = rows[0]?.version;
  if (version === undefined) {
    return false;
  }
  await insertVersion(tx, id, version, change.action, change.status, change.resource, by);
  return true;
}

async function insertVersion(
  tx: Queryable,
  id: string,
  version: number,
  action: ConsentVersionRow['action'],
  status: string,
  resource: Consent,
  by: ConsentChanger,
): Promise<void> {
  await tx.query(
    `INSERT INTO consent_versions (consent_id, version, action, status, changed_by_client, changed_by_org, changed_by_role, resource) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
    [id, version, action, status, by.clientId, by.org, by.role, json(resource)],
  );
}

/** Every version of a consent, newest first (FHIR history order). */
export async function consentVersions(db: Queryable, id: string): Promise<ConsentVersionRow[]> {
  return db.query<ConsentVersionRow>(
    `SELECT version, action, status, changed_by_client, changed_by_org, changed_by_role, changed_at, resource FROM consent_versions WHERE consent_id = $1 ORDER BY version DESC`,
    [id],
  );
}

export async function getConsent(db: Queryable, id: string): Promise<ConsentRow | undefined> {
  return (await db.query<ConsentRow>(`SELECT ${COLUMNS} FROM consents WHERE id = $1`, [id]))[0];
}

export async function searchConsents(
  db: Queryable,
  q: { patientCpr?: string; status?: string },
): Promise<ConsentRow[]> {
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
  return db.query<ConsentRow>(
    `SELECT ${COLUMNS} FROM consents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT 500`,
    params,
  );
}

/**
 * The patient's consents that can affect a decision now (active ones; the evaluator checks periods). Through a
 * CachedView the answer may come from the process's cache, which any change to the patient's consents, made
 * through any process, invalidates (src/cache/lookup-cache.ts).
 */
export async function activeConsentsFor(db: Queryable, patientCpr: string): Promise<Consent[]> {
  const rows = await cachedQuery<{ resource: Consent }>(
    db,
    'consent',
    patientCpr,
    `SELECT resource FROM consents WHERE patient_cpr = $1 AND status = 'active'`,
    [patientCpr],
  );
  return rows.map((r) => r.resource);
}
