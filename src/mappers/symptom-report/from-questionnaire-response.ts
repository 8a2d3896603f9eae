import type { IssueInput, ReasonCode } from '../../errors';
import { SYSTEM } from '../systems';
import { PHQ9_ANSWERS, PHQ9_ITEMS, PHQ9_QUESTIONNAIRE_URL } from './phq9';

/**
 * Reads a patient's PHQ-9 QuestionnaireResponse (profiles/Questionnaire-sektorbro-phq9.json) into item
 * scores. Pure. Only the gateway's own reading goes on: the canonical, the patient's CPR, when it was
 * answered, and one LOINC answer code per known item. Anything else a response could carry (free text, other
 * items, other value[x]) is refused with 400 naming the element, so no diary text is ever stored or sent.
 */
export interface SymptomReportInput {
  readonly patientCpr: string;
  readonly authored: string;
  /** Item scores by item number 1-9; undefined: not answered. */
  readonly items: ReadonlyArray<number | undefined>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const ALLOWED = new Set(['resourceType', 'id', 'meta', 'questionnaire', 'status', 'subject', 'authored', 'item']);

export function readSymptomReport(body: unknown): { report?: SymptomReportInput; problems: IssueInput[] } {
  const problems: IssueInput[] = [];
  const bad = (expression: string, diagnostics: string, reason: ReasonCode = 'invalid-value') =>
    problems.push({ expression, diagnostics: `${expression}: ${diagnostics}`, reason });
  if (!isObject(body) || body.resourceType !== 'QuestionnaireResponse') {
    bad('resourceType', 'must be QuestionnaireResponse');
    return { problems };
  }
  for (const key of Object.keys(body)) {
    if (!ALLOWED.has(key)) {
      bad(
        `QuestionnaireResponse.${key}`,
        'not taken in a symptom report (only questionnaire, status, subject, authored and item)',
        'unknown-element',
      );
    }
  }
  const canonical = typeof body.questionnaire === 'string' ? body.questionnaire.split('|')[0] : undefined;
  if (canonical !== PHQ9_QUESTIONNAIRE_URL) {
    bad('QuestionnaireResponse.questionnaire', `must be ${PHQ9_QUESTIONNAIRE_URL} (PHQ-9)`, 'unknown-questionnaire');
  }
  if (body.status !== 'completed') {
    bad('QuestionnaireResponse.status', 'must be completed');
  }
  const subject = isObject(body.subject) && isObject(body.subject.identifier) ? body.subject.identifier : undefined;
  const cpr = subject?.system === SYSTEM.cpr && typeof subject.value === 'string' ? subject.value : undefined;
  if (!cpr || !/^[0-9]{10}$/.test(cpr)) {
    bad('QuestionnaireResponse.subject.identifier', `the patient's CPR number (system ${SYSTEM.cpr}, 10 digits)`);
  }
  const authored = typeof body.authored === 'string' ? body.authored : undefined;
  if (
    !authored ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(authored) ||
    Number.isNaN(Date.parse(authored))
  ) {
    bad('QuestionnaireResponse.authored', 'a dateTime with time and zone, when the patient answered');
  }
  const items: Array<number | undefined> = PHQ9_ITEMS.map(() => undefined);
  const rawItems = body.item === undefined ? [] : body.item;
  if (!Array.isArray(rawItems)) {
    bad('QuestionnaireResponse.item', 'must be an array');
  } else {
    rawItems.forEach((raw: unknown, i) => {
      const path = `QuestionnaireResponse.item[${i}]`;
      if (!isObject(raw)) {
        bad(path, 'must be an object');
        return;
      }
      const extra = Object.keys(raw).filter((k) => k !== 'linkId' && k !== 'answer' && k !== 'text');
      if (extra.length > 0) {
        bad(`${path}.${extra[0] ?? ''}`, 'not taken (only linkId, text and answer)', 'unknown-element');
      }
      const known = PHQ9_ITEMS.find((q) => q.linkId === raw.linkId);
      if (!known) {
        bad(`${path}.linkId`, 'not a PHQ-9 item of the questionnaire', 'unknown-link-id');
        return;
      }
      if (items[known.number - 1] !== undefined) {
        bad(`${path}.linkId`, `item ${known.linkId} answered twice`);
        return;
      }
      const answers = raw.answer;
      if (answers === undefined) {
        return; // not answered: the scoring's missing-item rule decides
      }
      const first: unknown = Array.isArray(answers) ? answers[0] : undefined;
      if (
        !Array.isArray(answers) ||
        answers.length !== 1 ||
        !isObject(first) ||
        Object.keys(first).length !== 1 ||
        !isObject(first.valueCoding)
      ) {
        bad(`${path}.answer`, 'exactly one answer, a valueCoding from the LOINC answer list LL358-3');
        return;
      }
      const coding = first.valueCoding;
      const option = PHQ9_ANSWERS.find((a) => a.code === coding.code);
      if (coding.system !== SYSTEM.loinc || !option) {
        bad(`${path}.answer[0].valueCoding`, `a LOINC answer code (${PHQ9_ANSWERS.map((a) => a.code).join(', ')})`);
        return;
      }
      items[known.number - 1] = option.score;
    });
  }
  if (problems.length > 0 || !cpr || !authored) {
    return { problems };
  }
  return { report: { patientCpr: cpr, authored, items }, problems };
}
