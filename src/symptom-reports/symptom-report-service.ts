import { randomUUID } from 'node:crypto';
import type { GatewayClient } from '../auth/clients';
import { recordAudit } from '../audit/record-audit';
import { careTeamsInForce } from '../care-team/care-team-store';
import { sectorOfRole, type DisclosureGuard } from '../consent/disclosure-guard';
import {
  findDeliveryEndpoint,
  findListedGp,
  findOrganizationBySor,
  type ConnectionType,
  type OrganizationRow,
} from '../directory/directory';
import { errors } from '../errors';
import { storeOutgoingMessage } from '../intake/outgoing-message';
import type { MappingContext } from '../mappers/context';
import { buildSymptomAlert } from '../mappers/symptom-report/alert-message';
import { firedRules, type FiredRule } from '../mappers/symptom-report/alert-rules';
import { CRISIS_CONTACTS, CRISIS_MESSAGE, type CrisisContact } from '../mappers/symptom-report/crisis-contacts';
import { readSymptomReport } from '../mappers/symptom-report/from-questionnaire-response';
import { PHQ9_PANEL_LOINC, scorePhq9, type Phq9Severity } from '../mappers/symptom-report/phq9';
import { CANONICAL_BASE, SYSTEM } from '../mappers/systems';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import { replayEarlier, requestHash, storeOrReplay } from '../store/store-or-replay';
import { symptomReportDisclosure } from './symptom-report-disclosure';
import {
  findSymptomReportByKey,
  insertSymptomAlert,
  insertSymptomReport,
  isMonitoringPaused,
  previousScoredReports,
  reportHistory,
  saveSymptomReportAnswer,
  setMonitoringPaused,
} from './symptom-report-store';
import { dialectFor } from '../mappers/medcom/payload-types';
import { MESSAGE_KINDS } from '../messages/message-kinds';

/**
 * Symptom reports from the patient's own app (issue 18): a PHQ-9 QuestionnaireResponse is read (only item
 * answers), scored by the published rule, kept, and when a documented rule fires (alert-rules.ts) an alert
 * goes at once, ahead of routine traffic (an urgent outbox entry, at the head of the delivery queue), to the
 * care manager of the patient's care team in force and to the patient's own GP, each only where the patient's
 * consent names them for symptom reports. Report, alert, messages and the disclosure-log entries of refused
 * recipients are one transaction. An answer indicating thoughts of self-harm gets who to call now in the same
 * answer, whatever else happens (paused, no consent, no recipient).
 */
export interface SymptomReportDeps {
  db: Db;
  guard: DisclosureGuard;
  logger: Logger;
  gatewayEndpoint: string;
  onAccepted: () => void;
}

export const SYMPTOM_MONITORING_PARTY = {
  system: `${CANONICAL_BASE}/NamingSystem/api-client`,
  value: 'sektorbro-symptom-monitoring',
  name: 'Sektorbro symptommonitorering',
};

export interface SymptomReportResult {
  id: string;
  instrument: { system: string; code: string; display: string };
  authored: string;
  score:
    | { scorable: true; total: number; severity: Phq9Severity; substitutedItems: readonly number[] }
    | { scorable: false; missingItems: readonly number[]; reason: string };
  rulesFired: Array<{ rule: string; detail: string; item?: number }>;
  monitoringPaused: boolean;
  alert: {
    id: string;
    /** Who the alert goes to (delivery is tracked like every message: GET /messages/{id} for admins). */
    sentTo: Array<{ organization: string; name: string | null; role: 'care-manager' | 'gp'; messageId: string }>;
    notSentTo: Array<{ role: 'care-manager' | 'gp'; reason: string }>;
  } | null;
  /** Present when an answer indicates thoughts of self-harm. */
  callNow?: { message: string; contacts: readonly CrisisContact[] };
}

interface Candidate {
  role: 'care-manager' | 'gp';
  org: OrganizationRow | undefined;
  sor: string | undefined;
}

/**
 * Scores a PHQ-9 report, stores it and alerts the care team where a rule fires, in one transaction. With an
 * `idempotencyKey` (the Idempotency-Key header) a repeated request gets the first answer again (`replayed`), with no
 * second report or alert; the same key with another body is a 409 idempotency-key-reused.
 */
export async function submitSymptomReport(
  deps: SymptomReportDeps,
  client: GatewayClient,
  body: unknown,
  idempotencyKey?: string,
): Promise<{ result: SymptomReportResult; replayed: boolean }> {
  const hash = requestHash(['symptom-report'], body);
  const replay = () =>
    replayEarlier<{ id: string; requestHash: string | null; answer: unknown }, SymptomReportResult>(
      idempotencyKey,
      hash,
      {
        // A report stored without its answer is not an earlier answer (as before: no replay, no 409).
        find: async (key) => {
          const found = await findSymptomReportByKey(deps.db, client.id, key);
          return found?.answer ? found : undefined;
        },
        hashOf: (earlier) => earlier.requestHash ?? '',
        name: (earlier) => `symptom report ${earlier.id}`,
        answer: (earlier) => earlier.answer as SymptomReportResult,
      },
    );
  const earlier = await replay();
  if (earlier) {
    return { result: earlier, replayed: true };
  }
  const { report, problems } = readSymptomReport(body);
  if (!report) {
    throw errors.invalid(...problems);
  }
  if (client.role !== 'patient' || client.patientCpr !== report.patientCpr) {
    throw errors.forbidden({
      diagnostics: 'a patient may post symptom reports about themselves only',
      reason: 'not-own-patient',
    });
  }
  const now = new Date();
  const id = randomUUID();
  const score = scorePhq9(report.items);
  const cpr = report.patientCpr;
  const stored = await storeOrReplay(
    Boolean(idempotencyKey),
    () =>
      deps.db.transaction(async (tx) => {
        const paused = await isMonitoringPaused(tx, cpr);
        const previous = await previousScoredReports(tx, cpr);
        const fired: FiredRule[] = firedRules({
          total: score.scorable ? score.total : 0,
          items: report.items,
          // An unscorable report fires only the self-harm rule: no total, so no threshold and no trend.
          previousTotals: score.scorable ? previous.map((p) => p.total) : [],
        }).filter((f) => score.scorable || f.rule === 'self-harm-answer');
        await insertSymptomReport(tx, {
          id,
          patientCpr: cpr,
          instrument: PHQ9_PANEL_LOINC,
          authored: report.authored,
          total: score.scorable ? score.total : null,
          severity: score.scorable ? score.severity : null,
          items: report.items,
          rulesFired: fired.map((f) => f.rule),
          clientId: client.id,
          idempotencyKey,
          requestHash: hash,
        });
        const alert =
          fired.length > 0 && !paused
            ? await sendAlert(deps, tx, client, { id, cpr, report, score, fired, previous, now })
            : null;
        const answer: SymptomReportResult = {
          id,
          instrument: {
            system: SYSTEM.loinc,
            code: PHQ9_PANEL_LOINC,
            display: 'PHQ-9 quick depression assessment panel',
          },
          authored: report.authored,
          score: score.scorable
            ? { scorable: true, total: score.total, severity: score.severity, substitutedItems: score.substituted }
            : {
                scorable: false,
                missingItems: score.missing,
                reason:
                  'more than two items unanswered: the PHQ-9 rule disregards the questionnaire (NHS Data Dictionary)',
              },
          rulesFired: fired.map((f) => ({ rule: f.rule, detail: f.detail, ...(f.item ? { item: f.item } : {}) })),
          monitoringPaused: paused,
          alert,
          ...(fired.some((f) => f.rule === 'self-harm-answer')
            ? { callNow: { message: CRISIS_MESSAGE, contacts: CRISIS_CONTACTS } }
            : {}),
        };
        await saveSymptomReportAnswer(tx, id, answer);
        return answer;
      }),
    replay,
  );
  if ('replayed' in stored) {
    return { result: stored.replayed, replayed: true };
  }
  const result = stored.stored;
  if (result.alert && result.alert.sentTo.length > 0) {
    deps.onAccepted();
  }
  deps.logger.info(
    {
      reportId: id,
      client: client.id,
      rules: result.rulesFired.map((f) => f.rule),
      alerted: result.alert?.sentTo.length ?? 0,
    },
    'symptom report scored',
  );
  return { result, replayed: false };
}

async function sendAlert(
  deps: SymptomReportDeps,
  tx: Queryable,
  client: GatewayClient,
  r: {
    id: string;
    cpr: string;
    report: { authored: string; items: ReadonlyArray<number | undefined> };
    score: ReturnType<typeof scorePhq9>;
    fired: FiredRule[];
    previous: Array<{ total: number; authored: string }>;
    now: Date;
  },
): Promise<NonNullable<SymptomReportResult['alert']>> {
  const alertId = randomUUID();
  await insertSymptomAlert(tx, { id: alertId, reportId: r.id, patientCpr: r.cpr, rules: r.fired.map((f) => f.rule) });
  const candidates: Candidate[] = [];
  for (const team of await careTeamsInForce(tx, r.cpr, r.now)) {
    candidates.push({
      role: 'care-manager',
      sor: team.manager_value,
      org: await findOrganizationBySor(tx, team.manager_value),
    });
  }
  const listed = await findListedGp(tx, r.cpr);
  candidates.push({ role: 'gp', sor: listed.gp?.sor ?? undefined, org: listed.gp });
  const sentTo: NonNullable<SymptomReportResult['alert']>['sentTo'] = [];
  const notSentTo: NonNullable<SymptomReportResult['alert']>['notSentTo'] = [];
  const seen = new Set<string>();
  const ctx: MappingContext = { now: r.now, newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  const sender = { clientId: client.id, organization: client.organization };
  for (const c of candidates) {
    if (!c.org || !c.sor) {
      notSentTo.push({
        role: c.role,
        reason: c.role === 'gp' ? 'no own GP known in the directory' : 'care manager not in the directory',
      });
      continue;
    }
    if (seen.has(c.sor)) {
      continue;
    }
    seen.add(c.sor);
    const target = { system: SYSTEM.sor, value: c.sor };
    const decision = await deps.guard.decide(tx, r.cpr, symptomReportDisclosure(target), r.now);
    if (!decision.permit) {
      await recordAudit(tx, {
        action: 'refused',
        messageKind: 'symptom-report-alert',
        messageId: alertId,
        sender,
        recipient: { ...target, name: c.org.name ?? undefined },
        patientCpr: r.cpr,
        consent: decision.consent,
        purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
        dataClasses: ['symptom-report'],
        reason: `not sent: ${decision.reason}`,
      });
      notSentTo.push({
        role: c.role,
        reason: `your consent does not name them for symptom reports (${decision.reason})`,
      });
      continue;
    }
    const endpoint = await findDeliveryEndpoint(tx, c.org);
    if (!endpoint) {
      notSentTo.push({ role: c.role, reason: 'no delivery endpoint in the directory' });
      continue;
    }
    // Endpoint.payloadType decides what a system is sent, as for every other message: MedCom has no symptom
    // alert, so a system that lists only MedCom messages does not get the gateway's own.
    if (!dialectFor(endpoint.resource, undefined, MESSAGE_KINDS['symptom-report-alert'].event.code)) {
      notSentTo.push({
        role: c.role,
        reason: 'their system takes only MedCom messages, and MedCom has no standard for symptom alerts; call them',
      });
      continue;
    }
    const content = buildSymptomAlert(
      {
        patientCpr: r.cpr,
        reportId: r.id,
        authored: r.report.authored,
        total: r.score.scorable ? r.score.total : 0,
        severity: r.score.scorable ? r.score.severity : 'none-minimal',
        substituted: r.score.scorable ? r.score.substituted : [],
        items: r.report.items,
        fired: r.fired,
        previous: r.previous,
      },
      ctx,
    );
    const messageId = await storeOutgoingMessage(tx, ctx, {
      kind: 'symptom-report-alert',
      sender: {
        clientId: client.id,
        role: client.role,
        sector: sectorOfRole(client.role),
        party: SYMPTOM_MONITORING_PARTY,
      },
      to: {
        party: { system: SYSTEM.sor, value: c.sor, name: c.org.name },
        endpoint: { address: endpoint.address, connectionType: endpoint.connection_type as ConnectionType },
      },
      document: { entries: content.entries, focus: content.focus },
      disclosure: { purpose: 'TREAT', dataClasses: ['symptom-report'] },
      patientCpr: r.cpr,
      urgent: true,
    });
    sentTo.push({ organization: c.sor, name: c.org.name, role: c.role, messageId });
  }
  return { id: alertId, sentTo, notSentTo };
}

/** The patient pauses or resumes monitoring: while paused, reports are kept for them and no alert goes out. */
export async function setPaused(
  deps: SymptomReportDeps,
  client: GatewayClient,
  paused: boolean,
): Promise<{ paused: boolean }> {
  if (client.role !== 'patient' || !client.patientCpr) {
    throw errors.forbidden({
      diagnostics: 'only the patient may pause or resume their monitoring',
      reason: 'not-own-patient',
    });
  }
  const cpr = client.patientCpr;
  await setMonitoringPaused(deps.db, cpr, paused);
  return { paused };
}

export async function ownHistory(deps: SymptomReportDeps, client: GatewayClient) {
  if (client.role !== 'patient' || !client.patientCpr) {
    throw errors.forbidden({
      diagnostics: 'only the patient reads their own report history',
      reason: 'not-own-patient',
    });
  }
  const cpr = client.patientCpr;
  return {
    paused: await isMonitoringPaused(deps.db, cpr),
    reports: await reportHistory(deps.db, cpr),
  };
}
