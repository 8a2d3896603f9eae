import type { CareTeam } from 'fhir/r4';
import type { IssueInput, ReasonCode } from '../errors';
import { CANONICAL_BASE, SYSTEM } from './systems';

/**
 * Reads a CareTeam a hospital records for a patient after discharge (profile sektorbro-care-team): the
 * patient by CPR in `subject.identifier`, `status` active, a `period` with start and end (at most one year),
 * and exactly one participant whose `role` is care-manager (sektorbro-care-team-role) and whose `member` names
 * the care manager's organisation by SOR identifier. Other participants may be listed. Pure.
 */
export const CARE_TEAM_PROFILE = `${CANONICAL_BASE}/StructureDefinition/sektorbro-care-team`;
export const CARE_TEAM_ROLE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/sektorbro-care-team-role`;
export const MAX_CARE_PERIOD_MS = 366 * 24 * 3600 * 1000;

export interface CareTeamInput {
  readonly patientCpr: string;
  readonly manager: { readonly system: string; readonly value: string; readonly display?: string | undefined };
  readonly start: Date;
  readonly end: Date;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function readCareTeam(team: CareTeam): { input?: CareTeamInput; problems: IssueInput[] } {
  const problems: IssueInput[] = [];
  const bad = (expression: string, diagnostics: string, reason: ReasonCode = 'invalid-value') =>
    problems.push({ expression, diagnostics: `${expression}: ${diagnostics}`, reason });
  const cpr = team.subject?.identifier;
  if (cpr?.system !== SYSTEM.cpr || !/^[0-9]{10}$/.test(cpr.value ?? '')) {
    bad('CareTeam.subject.identifier', `the patient's CPR number (system ${SYSTEM.cpr}, 10 digits)`);
  }
  if (team.status !== 'active') {
    bad('CareTeam.status', 'must be active (a care team ends with its period)');
  }
  const start = team.period?.start && DATE_TIME.test(team.period.start) ? new Date(team.period.start) : undefined;
  const end = team.period?.end && DATE_TIME.test(team.period.end) ? new Date(team.period.end) : undefined;
  if (!start || Number.isNaN(start.getTime())) {
    bad('CareTeam.period.start', 'a date or dateTime: when the care manager takes over (usually discharge)');
  }
  if (!end || Number.isNaN(end.getTime())) {
    bad('CareTeam.period.end', 'a date or dateTime: the care manager period has an end');
  }
  if (start && end && !(end.getTime() > start.getTime() && end.getTime() - start.getTime() <= MAX_CARE_PERIOD_MS)) {
    bad('CareTeam.period', 'end must come after start, at most one year later');
  }
  const managers = (team.participant ?? []).filter((p) =>
    p.role?.some((r) => r.coding?.some((c) => c.system === CARE_TEAM_ROLE_SYSTEM && c.code === 'care-manager')),
  );
  if (managers.length !== 1) {
    bad('CareTeam.participant', `exactly one participant with role ${CARE_TEAM_ROLE_SYSTEM}#care-manager`);
  }
  const member = managers[0]?.member;
  const id = member?.identifier;
  if (managers.length === 1 && (id?.system !== SYSTEM.sor || !/^[0-9]{6,18}$/.test(id.value ?? ''))) {
    bad('CareTeam.participant.member.identifier', `the care manager's organisation by SOR identifier (${SYSTEM.sor})`);
  }
  if (problems.length > 0 || !cpr?.value || !start || !end || !id?.system || !id.value) {
    return { problems };
  }
  return {
    input: {
      patientCpr: cpr.value,
      manager: { system: id.system, value: id.value, display: member?.display },
      start,
      end,
    },
    problems,
  };
}
