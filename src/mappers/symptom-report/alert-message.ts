import type { DetectedIssue, Observation, Patient } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { PROFILE, entry, ref, type Entry } from '../native-parts';
import { CANONICAL_BASE, SYSTEM } from '../systems';
import type { FiredRule } from './alert-rules';
import { PHQ9_ANSWERS, PHQ9_ITEMS, PHQ9_PANEL_LOINC, PHQ9_TOTAL_LOINC, type Phq9Severity } from './phq9';

/**
 * The alert a care manager and a GP get when a symptom report fires a rule: a DetectedIssue (the focus;
 * profile sektorbro-symptom-alert) naming the rules that fired, with evidence the PHQ-9 total-score
 * Observation of this report, the totals of the previous reports (the trend) and, when item 9 fired, that
 * item's answer. Nothing else of the report goes: no other item answers, no diary. Pure.
 */
export const SYMPTOM_ALERT_PROFILE = `${CANONICAL_BASE}/StructureDefinition/sektorbro-symptom-alert`;
export const ALERT_RULE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/sektorbro-symptom-alert-rule`;

export interface AlertArgs {
  readonly patientCpr: string;
  readonly reportId: string;
  readonly authored: string;
  readonly total: number;
  readonly severity: Phq9Severity;
  readonly substituted: readonly number[];
  readonly items: ReadonlyArray<number | undefined>;
  readonly fired: readonly FiredRule[];
  /** Previous scored reports, newest first (at most three are sent). */
  readonly previous: ReadonlyArray<{ total: number; authored: string }>;
}

const SEVERITY_TEXT: Record<Phq9Severity, string> = {
  'none-minimal': 'none or minimal',
  mild: 'mild',
  moderate: 'moderate',
  'moderately-severe': 'moderately severe',
  severe: 'severe',
};

export function buildSymptomAlert(args: AlertArgs, ctx: MappingContext): { focus: Entry; entries: Entry[] } {
  const patient = entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [PROFILE.patient] },
    text: narrative('Patient', `CPR ${args.patientCpr}`),
    identifier: [{ system: SYSTEM.cpr, value: args.patientCpr }],
  });
  const totalObservation = (total: number, authored: string, id: string, current: boolean) =>
    entry<Observation>({
      resourceType: 'Observation',
      id,
      text: narrative(`PHQ-9 total score ${total} (${authored})`),
      status: 'final',
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] },
      ],
      code: {
        coding: [
          {
            system: SYSTEM.loinc,
            code: PHQ9_TOTAL_LOINC,
            display: 'Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]',
          },
        ],
      },
      subject: ref(patient),
      effectiveDateTime: authored,
      valueInteger: total,
      ...(current
        ? {
            interpretation: [{ text: `${SEVERITY_TEXT[args.severity]} depression (Kroenke 2001)` }],
            ...(args.substituted.length > 0
              ? {
                  note: [
                    {
                      text: `items ${args.substituted.join(', ')} unanswered; substituted by the mean of the others (NHS Data Dictionary rule)`,
                    },
                  ],
                }
              : {}),
          }
        : {}),
    });
  const current = totalObservation(args.total, args.authored, ctx.newId(), true);
  const trend = args.previous.slice(0, 3).map((p) => totalObservation(p.total, p.authored, ctx.newId(), false));
  const itemEntries = args.fired
    .filter((f): f is FiredRule & { item: number } => f.item !== undefined)
    .map((f) => {
      const item = PHQ9_ITEMS[f.item - 1];
      const answer = PHQ9_ANSWERS.find((a) => a.score === args.items[f.item - 1]);
      return entry<Observation>({
        resourceType: 'Observation',
        id: ctx.newId(),
        text: narrative(`PHQ-9 item ${f.item}: ${answer?.display ?? 'answered'}`),
        status: 'final',
        category: [
          { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] },
        ],
        code: { coding: [{ system: SYSTEM.loinc, code: item?.loinc ?? '', display: item?.text ?? '' }] },
        subject: ref(patient),
        effectiveDateTime: args.authored,
        ...(answer
          ? { valueCodeableConcept: { coding: [{ system: SYSTEM.loinc, code: answer.code, display: answer.display }] } }
          : {}),
      });
    });
  const selfHarm = args.fired.some((f) => f.rule === 'self-harm-answer');
  const trendText =
    args.previous.length > 0
      ? `; previous totals ${args.previous
          .slice(0, 3)
          .map((p) => p.total)
          .join(', ')} (newest first)`
      : '';
  const issue = entry<DetectedIssue>({
    resourceType: 'DetectedIssue',
    id: ctx.newId(),
    meta: { profile: [SYMPTOM_ALERT_PROFILE] },
    text: narrative(
      selfHarm ? 'Symptomalarm: selvskadetanker' : 'Symptomalarm: tegn på tilbagefald',
      `PHQ-9 total ${args.total} (${SEVERITY_TEXT[args.severity]})${trendText}`,
      ...args.fired.map((f) => f.detail),
    ),
    status: 'final',
    code: {
      coding: args.fired.map((f) => ({ system: ALERT_RULE_SYSTEM, code: f.rule })),
      text: `PHQ-9 (LOINC ${PHQ9_PANEL_LOINC}) symptom report alert`,
    },
    severity: selfHarm || args.total >= 20 ? 'high' : 'moderate',
    patient: ref(patient),
    identifiedDateTime: args.authored,
    identifier: [{ system: `${CANONICAL_BASE}/NamingSystem/symptom-report-id`, value: args.reportId }],
    evidence: [current, ...trend, ...itemEntries].map((e) => ({ detail: [ref(e)] })),
    detail: `PHQ-9 total ${args.total} (${SEVERITY_TEXT[args.severity]})${trendText}. ${args.fired.map((f) => f.detail).join('; ')}.`,
  });
  return { focus: issue, entries: [issue, patient, current, ...trend, ...itemEntries] };
}
