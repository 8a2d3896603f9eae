import type {
  Coding,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireItemEnableWhen,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from 'fhir/r4';
import type { IssueInput } from '../../errors';
import type { MappingContext } from '../context';
import { narrativeList } from '../narrative';
import { SYSTEM } from '../systems';
import { flatten, itemDataClass } from './questionnaire';
import type { AnswerValue, NativeStatusReportAnswer } from './types';

/**
 * The physician's answer as a QuestionnaireResponse, checked against the Questionnaire it answers: every
 * enabled required item answered, every answer of the item's type (and a listed option for choices), no
 * answers to questions that were not asked. Then the view the requester may see under the consent.
 */
const REDACTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };

export interface ResponseRefs {
  taskId: string;
  patientCpr: string;
  author: { system: string; value: string; name?: string | undefined };
}

export function nativeToQuestionnaireResponse(input: NativeStatusReportAnswer, questionnaire: Questionnaire, refs: ResponseRefs, ctx: MappingContext): { response: QuestionnaireResponse; issues: IssueInput[] } {
  const issues: IssueInput[] = [];
  const byLinkId = new Map(flatten(questionnaire.item).map((i) => [i.linkId, i]));
  const items: QuestionnaireResponseItem[] = [];
  for (const [linkId, value] of Object.entries(input.answers)) {
    const item = byLinkId.get(linkId);
    if (!item || item.type === 'display' || item.type === 'group') {
      issues.push({ diagnostics: `answers.${linkId}: the questionnaire has no question "${linkId}"`, expression: `answers.${linkId}`, reason: 'unknown-question' });
      continue;
    }
    const answer = nativeAnswer(item, value);
    if (typeof answer === 'string') {
      issues.push({ diagnostics: `answers.${linkId}: ${answer}`, expression: `answers.${linkId}`, reason: 'wrong-answer-type' });
      continue;
    }
    items.push({ linkId, ...(item.text ? { text: item.text } : {}), answer: [answer] });
  }
  // Keep the Questionnaire's order, so the answer reads like the question set.
  const order = [...byLinkId.keys()];
  items.sort((a, b) => order.indexOf(a.linkId) - order.indexOf(b.linkId));
  const response: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: ctx.newId(),
    text: responseNarrative(items),
    ...(questionnaire.url ? { questionnaire: questionnaire.url } : {}),
    basedOn: [{ identifier: { system: SYSTEM.taskId, value: refs.taskId } }],
    status: 'completed',
    subject: { identifier: { system: SYSTEM.cpr, value: refs.patientCpr } },
    authored: ctx.now.toISOString(),
    author: { identifier: { system: refs.author.system, value: refs.author.value }, ...(refs.author.name ? { display: refs.author.name } : {}) },
    item: items,
  };
  return { response, issues };
}

function nativeAnswer(item: QuestionnaireItem, value: AnswerValue): QuestionnaireResponseItemAnswer | string {
  switch (item.type as string) {
    case 'boolean':
      return typeof value === 'boolean' ? { valueBoolean: value } : 'must be true or false';
    case 'string':
    case 'text':
      return typeof value === 'string' && value.trim() !== '' ? { valueString: value } : 'must be text';
    case 'date':
      return typeof value === 'string' && isDate(value) ? { valueDate: value } : 'must be a date (YYYY-MM-DD)';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? { valueInteger: value } : 'must be a whole number';
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value) ? { valueDecimal: value } : 'must be a number';
    case 'choice': {
      const option = (item.answerOption ?? []).find((o) => o.valueCoding?.code === value || o.valueString === value);
      if (!option) {
        return `must be one of ${(item.answerOption ?? []).map((o) => o.valueCoding?.code ?? o.valueString ?? '').join(', ')}`;
      }
      return option.valueCoding ? { valueCoding: option.valueCoding } : { valueString: option.valueString ?? '' };
    }
    default:
      return `questions of type ${item.type} cannot be answered in native JSON; send a QuestionnaireResponse`;
  }
}

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));
}

const ANSWER_VALUES = ['valueBoolean', 'valueDecimal', 'valueInteger', 'valueDate', 'valueDateTime', 'valueTime', 'valueString', 'valueCoding', 'valueQuantity'] as const;

/**
 * A physician's QuestionnaireResponse rebuilt from what the gateway checks and minimises: linkIds, the
 * Questionnaire's own question texts and answer values. Narrative, extensions, contained resources and
 * anything else the sending system put in would otherwise travel to the jobcentre unexamined, past the consent.
 */
export function cleanResponse(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  refs: ResponseRefs & { id: string; authored: string },
): QuestionnaireResponse {
  const textOf = new Map(flatten(questionnaire.item).map((i) => [i.linkId, i.text]));
  const clean = (items: readonly QuestionnaireResponseItem[] | undefined): QuestionnaireResponseItem[] =>
    (items ?? []).map((i) => {
      const text = textOf.get(i.linkId);
      const answer = (i.answer ?? []).map((a) => {
        const kept: QuestionnaireResponseItemAnswer = {};
        for (const key of ANSWER_VALUES) {
          if (a[key] !== undefined) {
            Object.assign(kept, { [key]: a[key] });
          }
        }
        return a.item?.length ? { ...kept, item: clean(a.item) } : kept;
      });
      return { linkId: i.linkId, ...(text ? { text } : {}), ...(answer.length ? { answer } : {}), ...(i.item?.length ? { item: clean(i.item) } : {}) };
    });
  const item = clean(response.item);
  return {
    resourceType: 'QuestionnaireResponse',
    id: refs.id,
    text: responseNarrative(item),
    ...(questionnaire.url ? { questionnaire: questionnaire.url } : {}),
    basedOn: [{ identifier: { system: SYSTEM.taskId, value: refs.taskId } }],
    status: 'completed',
    subject: { identifier: { system: SYSTEM.cpr, value: refs.patientCpr } },
    authored: refs.authored,
    author: { identifier: { system: refs.author.system, value: refs.author.value }, ...(refs.author.name ? { display: refs.author.name } : {}) },
    item,
  };
}

/** Checks a QuestionnaireResponse against its Questionnaire: a list of problems, empty when it answers it. */
export function checkResponse(response: QuestionnaireResponse, questionnaire: Questionnaire, pathOf: (linkId: string) => string): IssueInput[] {
  const issues: IssueInput[] = [];
  const questions = flatten(questionnaire.item);
  const byLinkId = new Map(questions.map((i) => [i.linkId, i]));
  const answers = answerMap(response.item);
  for (const [linkId, given] of answers) {
    const item = byLinkId.get(linkId);
    if (!item) {
      issues.push({ diagnostics: `${pathOf(linkId)}: the questionnaire has no question "${linkId}"`, expression: pathOf(linkId), reason: 'unknown-question' });
      continue;
    }
    for (const a of given) {
      const problem = answerProblem(item, a);
      if (problem) {
        issues.push({ diagnostics: `${pathOf(linkId)}: ${problem}`, expression: pathOf(linkId), reason: 'wrong-answer-type' });
      }
    }
    if (given.length > 1 && !item.repeats) {
      issues.push({ diagnostics: `${pathOf(linkId)}: only one answer is allowed`, expression: pathOf(linkId), reason: 'wrong-answer-type' });
    }
  }
  for (const item of questions) {
    if (item.required && item.type !== 'display' && item.type !== 'group' && enabled(item, answers) && (answers.get(item.linkId) ?? []).length === 0) {
      issues.push({ diagnostics: `${pathOf(item.linkId)}: "${item.text ?? item.linkId}" is required`, expression: pathOf(item.linkId), reason: 'required-answer-missing' });
    }
    if (!enabled(item, answers) && (answers.get(item.linkId) ?? []).length > 0) {
      issues.push({ diagnostics: `${pathOf(item.linkId)}: this question does not apply given the other answers`, expression: pathOf(item.linkId), reason: 'answer-not-enabled' });
    }
  }
  return issues;
}

function answerProblem(item: QuestionnaireItem, a: QuestionnaireResponseItemAnswer): string | undefined {
  const has = (k: keyof QuestionnaireResponseItemAnswer) => a[k] !== undefined;
  switch (item.type as string) {
    case 'boolean':
      return has('valueBoolean') ? undefined : 'the answer must be valueBoolean';
    case 'string':
    case 'text':
      return has('valueString') && (a.valueString ?? '').trim() !== '' ? undefined : 'the answer must be a non-empty valueString';
    case 'date':
      return has('valueDate') ? undefined : 'the answer must be valueDate';
    case 'dateTime':
      return has('valueDateTime') ? undefined : 'the answer must be valueDateTime';
    case 'integer':
      return has('valueInteger') ? undefined : 'the answer must be valueInteger';
    case 'decimal':
      return has('valueDecimal') ? undefined : 'the answer must be valueDecimal';
    case 'choice': {
      const ok = (item.answerOption ?? []).some(
        (o) => (o.valueCoding && a.valueCoding?.code === o.valueCoding.code && (a.valueCoding?.system ?? '') === (o.valueCoding.system ?? '')) || (o.valueString !== undefined && a.valueString === o.valueString),
      );
      return ok ? undefined : `the answer must be one of ${(item.answerOption ?? []).map((o) => o.valueCoding?.code ?? o.valueString ?? '').join(', ')}`;
    }
    case 'display':
    case 'group':
      return 'this item takes no answer';
    default:
      return undefined;
  }
}

/** Every answer by linkId, wherever it sits: under a group's `item` or under an answer's `item`. */
function answerMap(items: readonly QuestionnaireResponseItem[] | undefined, into = new Map<string, QuestionnaireResponseItemAnswer[]>()): Map<string, QuestionnaireResponseItemAnswer[]> {
  for (const i of items ?? []) {
    if (i.answer?.length) {
      into.set(i.linkId, [...(into.get(i.linkId) ?? []), ...i.answer]);
    }
    answerMap(i.item, into);
    for (const a of i.answer ?? []) {
      answerMap(a.item, into);
    }
  }
  return into;
}

function enabled(item: QuestionnaireItem, answers: Map<string, QuestionnaireResponseItemAnswer[]>): boolean {
  const conditions = item.enableWhen ?? [];
  if (conditions.length === 0) {
    return true;
  }
  const results = conditions.map((c) => conditionHolds(c, answers.get(c.question) ?? []));
  return item.enableBehavior === 'any' ? results.some(Boolean) : results.every(Boolean);
}

function conditionHolds(c: QuestionnaireItemEnableWhen, given: QuestionnaireResponseItemAnswer[]): boolean {
  if (c.operator === 'exists') {
    return (given.length > 0) === (c.answerBoolean ?? true);
  }
  const expected = c.answerBoolean ?? c.answerCoding?.code ?? c.answerString ?? c.answerInteger ?? c.answerDecimal ?? c.answerDate;
  const matches = given.some((a) => (a.valueBoolean ?? a.valueCoding?.code ?? a.valueString ?? a.valueInteger ?? a.valueDecimal ?? a.valueDate) === expected);
  return c.operator === '!=' ? !matches : matches;
}

/**
 * The requester's view: answers whose data class the consent does not disclose are removed, the response
 * is marked REDACTED and its narrative says which classes were withheld (never their content).
 */
export function minimiseResponse(response: QuestionnaireResponse, questionnaire: Questionnaire, disclose: readonly string[]): { response: QuestionnaireResponse; withheld: string[] } {
  const classOf = new Map(flatten(questionnaire.item).map((i) => [i.linkId, itemDataClass(i)]));
  const withheld = new Set<string>();
  const keep = (items: readonly QuestionnaireResponseItem[] | undefined): QuestionnaireResponseItem[] =>
    (items ?? []).flatMap((i) => {
      const cls = classOf.get(i.linkId);
      if (cls && !disclose.includes(cls)) {
        withheld.add(cls);
        return [];
      }
      // FHIR has no empty arrays: a nested list that loses every item loses the list.
      const nested = (list: readonly QuestionnaireResponseItem[] | undefined) => {
        const kept = keep(list);
        return kept.length > 0 ? { item: kept } : {};
      };
      const { item: children, answer, ...rest } = i;
      return [
        {
          ...rest,
          ...nested(children),
          ...(answer ? { answer: answer.map(({ item: _nested, ...a }) => ({ ...a, ...nested(_nested) })) } : {}),
        },
      ];
    });
  const item = keep(response.item);
  if (withheld.size === 0) {
    return { response, withheld: [] };
  }
  const classes = [...withheld].sort();
  return {
    response: {
      ...response,
      meta: { ...response.meta, security: [...(response.meta?.security ?? []), REDACTED] },
      text: responseNarrative(item, classes),
      item,
    },
    withheld: classes,
  };
}

/** The data classes a response actually carries: what its disclosure is, for the audit and the check before delivery. */
export function answeredDataClasses(response: QuestionnaireResponse, questionnaire: Questionnaire): string[] {
  const classOf = new Map(flatten(questionnaire.item).map((i) => [i.linkId, itemDataClass(i)]));
  return [...new Set([...answerMap(response.item).keys()].map((linkId) => classOf.get(linkId)).filter((c): c is string => c !== undefined))].sort();
}

function responseNarrative(items: readonly QuestionnaireResponseItem[], withheld: readonly string[] = []): ReturnType<typeof narrativeList> {
  const lines = items.map((i) => `${i.text ?? i.linkId}: ${(i.answer ?? []).map(answerText).join(', ')}`);
  if (withheld.length > 0) {
    lines.push(`Udeladt efter samtykke (withheld under the patient's consent): ${withheld.join(', ')}`);
  }
  return narrativeList('Statusoplysninger (status report)', lines);
}

function answerText(a: QuestionnaireResponseItemAnswer): string {
  if (a.valueBoolean !== undefined) {
    return a.valueBoolean ? 'ja (yes)' : 'nej (no)';
  }
  return String(a.valueString ?? a.valueCoding?.display ?? a.valueCoding?.code ?? a.valueDate ?? a.valueDateTime ?? a.valueInteger ?? a.valueDecimal ?? '');
}
