import { randomUUID } from 'node:crypto';
import type { CareTeam } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { recordAudit } from '../audit/record-audit';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import { findDeliveryEndpoint, findOrganizationBySor } from '../directory/directory';
import { errors } from '../errors';
import { CARE_TEAM_PROFILE, readCareTeam } from '../mappers/care-team';
import { SYSTEM } from '../mappers/systems';
import type { Db } from '../store/db';
import { isUuid } from '../store/uuid';
import { latestReportsAndAlerts } from '../symptom-reports/symptom-report-store';
import type { FhirValidator } from '../validation/fhir-validator';
import { careTeamsManagedBy, getCareTeam, insertCareTeam, type CareTeamRow } from './care-team-store';
import { symptomReportDisclosure } from '../symptom-reports/symptom-report-disclosure';
import { meetingsWithParticipant } from '../planning-meetings/meeting-store';
import { assertValidFhirInput } from '../validation/valid-fhir-input';

/**
 * Care teams after discharge (issue 18): a hospital names the patient's care manager for a period; the care
 * manager then receives copies of the patient's documents as consent allows (intake/submit-document.ts), the
 * alerts of the patient's symptom reports, and a work list. Recording a care team is in the patient's
 * disclosure log: it tells the care manager's organisation that the patient is in its care.
 */
export interface CareTeamDeps {
  db: Db;
  validator: FhirValidator;
  guard: DisclosureGuard;
}

export async function createCareTeam(deps: CareTeamDeps, client: GatewayClient, body: unknown): Promise<CareTeam> {
  assertValidFhirInput(deps.validator, body);
  if ((body as { resourceType?: unknown }).resourceType !== 'CareTeam') {
    throw errors.invalid({
      diagnostics: 'resourceType: must be CareTeam',
      expression: 'resourceType',
      reason: 'invalid-value',
    });
  }
  const { input, problems } = readCareTeam(body as CareTeam);
  if (!input) {
    throw errors.invalid(...problems);
  }
  const org = await findOrganizationBySor(deps.db, input.manager.value);
  const endpoint = org ? await findDeliveryEndpoint(deps.db, org) : undefined;
  if (!org || !endpoint) {
    throw errors.unprocessable({
      diagnostics: `CareTeam.participant.member.identifier: no organisation with SOR ${input.manager.value} and a delivery endpoint in the directory`,
      expression: 'CareTeam.participant.member.identifier',
      reason: 'unknown-recipient',
    });
  }
  const id = randomUUID();
  const now = new Date();
  const source = body as CareTeam;
  const resource: CareTeam = {
    resourceType: 'CareTeam',
    id,
    meta: { profile: [CARE_TEAM_PROFILE], versionId: '1', lastUpdated: now.toISOString() },
    status: 'active',
    ...(source.name ? { name: source.name } : {}),
    subject: { identifier: { system: SYSTEM.cpr, value: input.patientCpr } },
    period: { start: source.period?.start ?? '', end: source.period?.end ?? '' },
    participant: source.participant ?? [],
    managingOrganization: [{ identifier: client.organization }],
  };
  const row: CareTeamRow = {
    id,
    patient_cpr: input.patientCpr,
    manager_system: input.manager.system,
    manager_value: input.manager.value,
    period_start: input.start,
    period_end: input.end,
    status: 'active',
    recorded_by_client: client.id,
    recorded_by_system: client.organization.system,
    recorded_by_value: client.organization.value,
    resource,
  };
  await deps.db.transaction(async (tx) => {
    await insertCareTeam(tx, row);
    await recordAudit(tx, {
      action: 'delivered',
      messageKind: 'care-team',
      messageId: id,
      sender: { clientId: client.id, organization: client.organization },
      recipient: { system: input.manager.system, value: input.manager.value, name: org.name ?? undefined },
      patientCpr: input.patientCpr,
      purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
      dataClasses: ['care-team'],
      reason: `care manager from ${input.start.toISOString()} to ${input.end.toISOString()}`,
    });
  });
  return resource;
}

/** Admin, the organisation that recorded it, the care manager it names, and the patient; anyone else 404. */
export async function readCareTeamFor(deps: CareTeamDeps, client: GatewayClient, id: string): Promise<CareTeam> {
  const row = isUuid(id) ? await getCareTeam(deps.db, id) : undefined;
  const org = client.organization;
  const may =
    row &&
    (client.role === 'admin' ||
      (client.role === 'patient' && client.patientCpr === row.patient_cpr) ||
      (org.system === row.recorded_by_system && org.value === row.recorded_by_value && client.role !== 'patient') ||
      (client.role === 'caremanager' && org.system === row.manager_system && org.value === row.manager_value));
  if (!row || !may) {
    throw errors.notFound({ diagnostics: `CareTeam/${id}: not found` });
  }
  return row.resource;
}

export interface WorkListEntry {
  careTeam: string;
  patient: { cpr: string };
  period: { start: string; end: string };
  /** The newest symptom report, where the patient's consent lets this care manager see it. */
  latestReport: {
    id: string;
    authored: string;
    instrument: string;
    total: number | null;
    severity: string | null;
  } | null;
  openAlerts: Array<{ id: string; reportId: string; rules: string[]; createdAt: string }>;
  /** Why reports and alerts are not shown (no consent for symptom reports to this organisation, paused...). */
  withheld: string | null;
  monitoringPaused: boolean;
  /** Planning meetings about the patient to which the care manager is invited (GET /planning-meetings/{id}). */
  planningMeetings: Array<{ id: string; status: string; booked: string | null }>;
}

/** The care manager's patients now in their care, each with the newest report and the open alerts. */
export async function careManagerWorkList(deps: CareTeamDeps, client: GatewayClient): Promise<WorkListEntry[]> {
  const now = new Date();
  const teams = await careTeamsManagedBy(deps.db, client.organization, now);
  const out: WorkListEntry[] = [];
  for (const team of teams) {
    const decision = await deps.guard.decide(
      deps.db,
      team.patient_cpr,
      symptomReportDisclosure(client.organization),
      now,
    );
    const state = await latestReportsAndAlerts(deps.db, team.patient_cpr);
    out.push({
      careTeam: team.id,
      patient: { cpr: team.patient_cpr },
      period: { start: team.period_start.toISOString(), end: team.period_end.toISOString() },
      latestReport: decision.permit ? state.latest : null,
      openAlerts: decision.permit ? state.openAlerts : [],
      withheld: decision.permit ? null : `symptom reports: ${decision.reason}`,
      monitoringPaused: state.paused,
      planningMeetings: await meetingsWithParticipant(deps.db, team.patient_cpr, client.organization),
    });
  }
  return out;
}
