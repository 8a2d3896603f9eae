import type { CareTeam } from 'fhir/r4';
import { json, type Queryable } from '../store/db';

/** Care teams after discharge: who manages the patient's care, for which period. */
export interface CareTeamRow {
  id: string;
  patient_cpr: string;
  manager_system: string;
  manager_value: string;
  period_start: Date;
  period_end: Date;
  status: string;
  recorded_by_client: string;
  recorded_by_system: string;
  recorded_by_value: string;
  resource: CareTeam;
}

export async function insertCareTeam(tx: Queryable, row: CareTeamRow): Promise<void> {
  await tx.query(
    `INSERT INTO care_teams (id, patient_cpr, manager_system, manager_value, period_start, period_end, status,
       recorded_by_client, recorded_by_system, recorded_by_value, resource)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)`,
    [
      row.id,
      row.patient_cpr,
      row.manager_system,
      row.manager_value,
      row.period_start.toISOString(),
      row.period_end.toISOString(),
      row.status,
      row.recorded_by_client,
      row.recorded_by_system,
      row.recorded_by_value,
      json(row.resource),
    ],
  );
}

export async function getCareTeam(db: Queryable, id: string): Promise<CareTeamRow | undefined> {
  const rows = await db.query<CareTeamRow>('SELECT * FROM care_teams WHERE id = $1', [id]);
  return rows[0];
}

/** The care teams in force for a patient at an instant (active, inside their period), newest first. */
export async function careTeamsInForce(db: Queryable, patientCpr: string, at: Date): Promise<CareTeamRow[]> {
  return db.query<CareTeamRow>(
    `SELECT * FROM care_teams WHERE patient_cpr = $1 AND status = 'active' AND period_start <= $2 AND period_end > $2
      ORDER BY created_at DESC`,
    [patientCpr, at.toISOString()],
  );
}

/** The care teams in force that name this organisation as care manager. */
export async function careTeamsManagedBy(
  db: Queryable,
  manager: { system: string; value: string },
  at: Date,
): Promise<CareTeamRow[]> {
  return db.query<CareTeamRow>(
    `SELECT * FROM care_teams WHERE manager_system = $1 AND manager_value = $2 AND status = 'active'
       AND period_start <= $3 AND period_end > $3 ORDER BY period_end`,
    [manager.system, manager.value, at.toISOString()],
  );
}
