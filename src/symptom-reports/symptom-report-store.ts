import { json, type Queryable } from '../store/db';

/** The patient's scored symptom reports, their alerts and whether monitoring is paused. */
export interface NewSymptomReport {
  id: string;
  patientCpr: string;
  instrument: string;
  authored: string;
  total: number | null;
  severity: string | null;
  items: ReadonlyArray<number | undefined>;
  rulesFired: string[];
  /** The API client and its Idempotency-Key (with the SHA-256 of the body), where the request gave one. */
  clientId?: string | undefined;
  idempotencyKey?: string | undefined;
  requestHash?: string | undefined;
}

export async function insertSymptomReport(tx: Queryable, r: NewSymptomReport): Promise<void> {
  await tx.query(
    `INSERT INTO symptom_reports (id, patient_cpr, instrument, authored, total, severity, items, rules_fired,
       client_id, idempotency_key, request_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)`,
    [
      r.id,
      r.patientCpr,
      r.instrument,
      r.authored,
      r.total,
      r.severity,
      json(r.items.map((v) => v ?? null)),
      json(r.rulesFired),
      r.clientId ?? null,
      r.idempotencyKey ?? null,
      r.requestHash ?? null,
    ],
  );
}

/** Keeps the answer given for a report, so that a request repeated with its Idempotency-Key gets it again. */
export async function saveSymptomReportAnswer(tx: Queryable, id: string, answer: unknown): Promise<void> {
  await tx.query('UPDATE symptom_reports SET answer = $2::jsonb WHERE id = $1', [id, json(answer)]);
}

/** The report an API client stored under an Idempotency-Key: the hash of its body and the answer it got. */
export async function findSymptomReportByKey(
  db: Queryable,
  clientId: string,
  idempotencyKey: string,
): Promise<{ id: string; requestHash: string | null; answer: unknown } | undefined> {
  const rows = await db.query<{ id: string; request_hash: string | null; answer: unknown }>(
    'SELECT id, request_hash, answer FROM symptom_reports WHERE client_id = $1 AND idempotency_key = $2',
    [clientId, idempotencyKey],
  );
  const row = rows[0];
  return row ? { id: row.id, requestHash: row.request_hash, answer: row.answer } : undefined;
}

/** Previous scored reports of the patient, newest first. */
export async function previousScoredReports(
  db: Queryable,
  patientCpr: string,
  limit = 3,
): Promise<Array<{ total: number; authored: string }>> {
  const rows = await db.query<{ total: number; authored: Date }>(
    `SELECT total, authored FROM symptom_reports WHERE patient_cpr = $1 AND total IS NOT NULL
      ORDER BY authored DESC, created_at DESC LIMIT $2`,
    [patientCpr, limit],
  );
  return rows.map((r) => ({ total: r.total, authored: new Date(r.authored).toISOString() }));
}

export async function insertSymptomAlert(
  tx: Queryable,
  a: { id: string; reportId: string; patientCpr: string; rules: string[] },
): Promise<void> {
  await tx.query(
    `INSERT INTO symptom_alerts (id, report_id, patient_cpr, rules, status) VALUES ($1, $2, $3, $4::jsonb, 'open')`,
    [a.id, a.reportId, a.patientCpr, json(a.rules)],
  );
}

export async function isMonitoringPaused(db: Queryable, patientCpr: string): Promise<boolean> {
  const rows = await db.query<{ paused: boolean }>('SELECT paused FROM symptom_monitoring WHERE patient_cpr = $1', [
    patientCpr,
  ]);
  return rows[0]?.paused === true;
}

export async function setMonitoringPaused(db: Queryable, patientCpr: string, paused: boolean): Promise<void> {
  await db.query(
    `INSERT INTO symptom_monitoring (patient_cpr, paused, changed_at) VALUES ($1, $2, now())
     ON CONFLICT (patient_cpr) DO UPDATE SET paused = EXCLUDED.paused, changed_at = now()`,
    [patientCpr, paused],
  );
}

/** Closes an open alert; returns the patient's CPR, or undefined when there is no such open alert. */
export async function acknowledgeAlert(db: Queryable, id: string, by: string): Promise<string | undefined> {
  const rows = await db.query<{ patient_cpr: string }>(
    `UPDATE symptom_alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now()
      WHERE id = $1 AND status = 'open' RETURNING patient_cpr`,
    [id, by],
  );
  return rows[0]?.patient_cpr;
}

export async function alertPatient(db: Queryable, id: string): Promise<string | undefined> {
  const rows = await db.query<{ patient_cpr: string }>('SELECT patient_cpr FROM symptom_alerts WHERE id = $1', [id]);
  return rows[0]?.patient_cpr;
}

export async function latestReportsAndAlerts(
  db: Queryable,
  patientCpr: string,
): Promise<{
  latest: { id: string; authored: string; instrument: string; total: number | null; severity: string | null } | null;
  openAlerts: Array<{ id: string; reportId: string; rules: string[]; createdAt: string }>;
  paused: boolean;
}> {
  const latest = await db.query<{
    id: string;
    authored: Date;
    instrument: string;
    total: number | null;
    severity: string | null;
  }>(
    `SELECT id, authored, instrument, total, severity FROM symptom_reports WHERE patient_cpr = $1
      ORDER BY authored DESC, created_at DESC LIMIT 1`,
    [patientCpr],
  );
  const alerts = await db.query<{ id: string; report_id: string; rules: string[]; created_at: Date }>(
    `SELECT id, report_id, rules, created_at FROM symptom_alerts WHERE patient_cpr = $1 AND status = 'open'
      ORDER BY created_at DESC`,
    [patientCpr],
  );
  const first = latest[0];
  return {
    latest: first
      ? {
          id: first.id,
          authored: new Date(first.authored).toISOString(),
          instrument: first.instrument,
          total: first.total,
          severity: first.severity,
        }
      : null,
    openAlerts: alerts.map((a) => ({
      id: a.id,
      reportId: a.report_id,
      rules: a.rules,
      createdAt: new Date(a.created_at).toISOString(),
    })),
    paused: await isMonitoringPaused(db, patientCpr),
  };
}

/** The patient's own history (their app shows it): scores only, newest first. */
export async function reportHistory(
  db: Queryable,
  patientCpr: string,
  limit = 100,
): Promise<
  Array<{ id: string; authored: string; total: number | null; severity: string | null; rulesFired: string[] }>
> {
  const rows = await db.query<{
    id: string;
    authored: Date;
    total: number | null;
    severity: string | null;
    rules_fired: string[];
  }>(
    `SELECT id, authored, total, severity, rules_fired FROM symptom_reports WHERE patient_cpr = $1
      ORDER BY authored DESC, created_at DESC LIMIT $2`,
    [patientCpr, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    authored: new Date(r.authored).toISOString(),
    total: r.total,
    severity: r.severity,
    rulesFired: r.rules_fired,
  }));
}
