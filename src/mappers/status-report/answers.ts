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
const REDACTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'REDACTED',
  display: 'redacted',
};

export interface ResponseRefs {
  taskId: string;
  patientCpr: string;
  author: { system: string; value: string; name?: string | undefined };
}

export function nativeToQuestionnaireResponse(
  input: NativeStatusReportAnswer,
  questionnaire: Questionnaire,
  refs: ResponseRefs,
  ctx: MappingContext,
): { response: QuestionnaireResponse; issues: IssueInput[] } {
  const issues: IssueInput[] = [];
  const byLinkId = new Map(flatten(questionnaire.item).map((i) => [i.linkId, i]));
  const items: QuestionnaireResponseItem[] = [];
  for (const [linkId, value] of Object.entries(input.answers)) {
    const item = byLinkId.get(linkId);
    if (!item || item.type === 'display' || item.type === 'group') {
      issues.push({
        diagnostics: `answers.${linkId}: the questionnaire has no question "${linkId}"`,
        expression: `answers.${linkId}`,
        reason: 'unknown-question',
      });
      continue;
    }
    const answer = nativeAnswer(item, value);
    if (typeof answer === 'string') {
      issues.push({
        diagnostics: `answers.${linkId}: ${answer}`,
        expression: `answers.${linkId}`,
        reason: 'wrong-answer-type',
      });
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
    author: {
      identifier: { system: refs.author.system, value: refs.author.value },
      ...(refs.author.name ? { display: refs.author.name } : {}),
    },
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

/** The one answer element each question type takes (FHIR R4 Questionnaire.item.type → QuestionnaireResponse answer). */
const VALUE_KEY: Partial<Record<string, keyof QuestionnaireResponseItemAnswer>> = {
  boolean: 'valueBoolean',
  decimal: 'valueDecimal',
  integer: 'valueInteger',
  date: 'valueDate',
  dateTime: 'valueDateTime',
  string: 'valueString',
  text: 'valueString',
};

/**
 * Elements of the sender's QuestionnaireResponse the gateway reads or knowingly leaves behind: none of them
 * is carried (the answer is built anew), so they cannot smuggle anything. Everything else (extension,
 * modifierExtension, contained, implicitRules, primitive extensions `_x`) is refused, because the gateway
 * would otherwise have to decide what it means.
 */
const RESPONSE_ELEMENTS = new Set([
  'resourceType',
  'id',
  'meta',
  'text',
  'language',
  'identifier',
  'basedOn',
  'partOf',
  'questionnaire',
  'status',
  'subject',
  'encounter',
  'authored',
  'author',
  'source',
  'item',
]);
const ITEM_ELEMENTS = new Set(['linkId', 'text', 'answer', 'item']);
const CODING_ELEMENTS = new Set(['system', 'code', 'display']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A physician's QuestionnaireResponse (FHIR input) as the answer the gateway builds and sends: made anew from
 * a whitelist of checked values, never a copy of the sender's structure. Each answer is found by a linkId the
 * Questionnaire asks at that place (top level, under a group's `item`, or under a question's `answer.item`),
 * has exactly one value of the element its question type takes (valueCoding only for a listed option, with
 * system and code, and a display only if it is the option's own), and is written with the Questionnaire's
 * own question text and option coding. Anything else in an item or an answer (an unknown or misplaced
 * linkId, another value[x], a unit, a display of its own, an id, an extension) is an issue naming the
 * element, e.g. `QuestionnaireResponse.item[2].answer[0].valueCoding.display`: the caller refuses with 400.
 */
export function responseFromFhir(
  input: Json,
  questionnaire: Questionnaire,
  refs: ResponseRefs & { id: string; authored: string },
): { response: QuestionnaireResponse; issues: IssueInput[] } {
  const issues: IssueInput[] = [];
  const refuse = (path: string, why: string, reason: 'unexpected-element' | 'unknown-question' | 'wrong-answer-type') =>
    issues.push({ diagnostics: `${path}: ${why}`, expression: path, reason });
  for (const key of Object.keys(input)) {
    if (!RESPONSE_ELEMENTS.has(key)) {
      refuse(
        `QuestionnaireResponse.${key}`,
        'the gateway does not take this element in an answer',
        'unexpected-element',
      );
    }
  }

  const value = (q: QuestionnaireItem, a: Json, path: string): QuestionnaireResponseItemAnswer | undefined => {
    const valueKeys = Object.keys(a).filter((k) => k !== 'item');
    for (const k of valueKeys.filter((k) => !k.startsWith('value'))) {
      refuse(`${path}.${k}`, 'an answer holds one value[x] and, for nested questions, item', 'unexpected-element');
    }
    const given = valueKeys.filter((k) => k.startsWith('value'));
    const expected = q.type === 'choice' ? ['valueCoding', 'valueString'] : [VALUE_KEY[q.type]];
    if (expected[0] === undefined) {
      refuse(path, `question "${q.linkId}" (${q.type}) takes no answer`, 'wrong-answer-type');
      return undefined;
    }
    const wrong = given.filter((k) => !expected.includes(k as keyof QuestionnaireResponseItemAnswer));
    for (const k of wrong) {
      refuse(
        `${path}.${k}`,
        `question "${q.linkId}" takes ${expected.join(' or ')}, nothing else`,
        'wrong-answer-type',
      );
    }
    const right = given.filter((k) => expected.includes(k as keyof QuestionnaireResponseItemAnswer));
    if (right.length === 0 && wrong.length === 0) {
      refuse(path, `the answer must have one ${expected.join(' or ')}`, 'wrong-answer-type');
    }
    const key = right[0];
    if (right.length !== 1 || wrong.length > 0 || key === undefined) {
      return undefined;
    }
    const checked = checkedValue(q, key, a[key]);
    if ('problem' in checked) {
      refuse(`${path}.${key}${checked.element ?? ''}`, checked.problem, checked.reason);
      return undefined;
    }
    return checked.answer;
  };

  /** The items at one place in the response, against the questions the Questionnaire asks at that place. */
  const build = (given: unknown, asked: readonly QuestionnaireItem[], path: string): QuestionnaireResponseItem[] => {
    if (given === undefined) {
      return [];
    }
    if (!Array.isArray(given)) {
      refuse(path, 'must be a list of items', 'unexpected-element');
      return [];
    }
    const byLinkId = new Map(asked.map((q) => [q.linkId, q]));
    const seen = new Set<string>();
    const built: QuestionnaireResponseItem[] = [];
    given.forEach((raw: unknown, i) => {
      const at = `${path}[${i}]`;
      if (!isObject(raw)) {
        refuse(at, 'must be an item', 'unexpected-element');
        return;
      }
      for (const k of Object.keys(raw).filter((k) => !ITEM_ELEMENTS.has(k))) {
        refuse(`${at}.${k}`, 'an item holds linkId, text, answer and item only', 'unexpected-element');
      }
      const linkId = raw.linkId;
      const q = typeof linkId === 'string' ? byLinkId.get(linkId) : undefined;
      if (!q) {
        refuse(
          `${at}.linkId`,
          typeof linkId === 'string'
            ? `the questionnaire asks no question "${linkId}" here`
            : 'every item needs the linkId of a question',
          'unknown-question',
        );
        return;
      }
      if (seen.has(q.linkId) && !(q.type === 'group' && q.repeats)) {
        refuse(
          `${at}.linkId`,
          `"${q.linkId}" is answered twice; give several answers in one item`,
          'unexpected-element',
        );
        return;
      }
      seen.add(q.linkId);
      if (raw.text !== undefined && typeof raw.text !== 'string') {
        refuse(`${at}.text`, 'must be text', 'unexpected-element');
      }
      const children = q.item ?? [];
      if (q.type === 'group' || q.type === 'display') {
        if (raw.answer !== undefined) {
          refuse(`${at}.answer`, `"${q.linkId}" is a ${q.type} and takes no answer`, 'wrong-answer-type');
        }
        const nested = build(raw.item, q.type === 'group' ? children : [], `${at}.item`);
        if (nested.length > 0) {
          built.push({ linkId: q.linkId, ...(q.text ? { text: q.text } : {}), item: nested });
        }
        return;
      }
      if (raw.item !== undefined) {
        refuse(`${at}.item`, `the questions under "${q.linkId}" are answered under answer.item`, 'unexpected-element');
      }
      if (raw.answer !== undefined && !Array.isArray(raw.answer)) {
        refuse(`${at}.answer`, 'must be a list of answers', 'unexpected-element');
        return;
      }
      const answers: QuestionnaireResponseItemAnswer[] = [];
      ((raw.answer ?? []) as unknown[]).forEach((a, j) => {
        const ap = `${at}.answer[${j}]`;
        if (!isObject(a)) {
          refuse(ap, 'must be an answer', 'unexpected-element');
          return;
        }
        const one = value(q, a, ap);
        const nested = build(a.item, children, `${ap}.item`);
        if (one) {
          answers.push(nested.length > 0 ? { ...one, item: nested } : one);
        }
      });
      if (answers.length > 0) {
        built.push({ linkId: q.linkId, ...(q.text ? { text: q.text } : {}), answer: answers });
      }
    });
    return built;
  };

  const item = build(input.item, questionnaire.item ?? [], 'QuestionnaireResponse.item');
  const response: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: refs.id,
    text: responseNarrative(item),
    ...(questionnaire.url ? { questionnaire: questionnaire.url } : {}),
    basedOn: [{ identifier: { system: SYSTEM.taskId, value: refs.taskId } }],
    status: 'completed',
    subject: { identifier: { system: SYSTEM.cpr, value: refs.patientCpr } },
    authored: refs.authored,
    author: {
      identifier: { system: refs.author.system, value: refs.author.value },
      ...(refs.author.name ? { display: refs.author.name } : {}),
    },
    item,
  };
  return { response, issues };
}

type Checked =
  | { answer: QuestionnaireResponseItemAnswer }
  | { problem: string; element?: string; reason: 'unexpected-element' | 'wrong-answer-type' };

/** One answer value of the key its question takes, built anew: a type check, and a choice's option found. */
function checkedValue(q: QuestionnaireItem, key: string, v: unknown): Checked {
  const wrongType = (problem: string): Checked => ({ problem, reason: 'wrong-answer-type' });
  if (key === 'valueBoolean') {
    return typeof v === 'boolean' ? { answer: { valueBoolean: v } } : wrongType('must be true or false');
  }
  if (key === 'valueInteger') {
    return typeof v === 'number' && Number.isInteger(v)
      ? { answer: { valueInteger: v } }
      : wrongType('must be a whole number');
  }
  if (key === 'valueDecimal') {
    return typeof v === 'number' && Number.isFinite(v)
      ? { answer: { valueDecimal: v } }
      : wrongType('must be a number');
  }
  if (key === 'valueDate') {
    return typeof v === 'string' && isDate(v) ? { answer: { valueDate: v } } : wrongType('must be a date (YYYY-MM-DD)');
  }
  if (key === 'valueDateTime') {
    return typeof v === 'string' && DATE_TIME.test(v)
      ? { answer: { valueDateTime: v } }
      : wrongType('must be a dateTime');
  }
  if (key === 'valueString') {
    if (typeof v !== 'string') {
      return wrongType('must be text');
    }
    const listed = q.type !== 'choice' || (q.answerOption ?? []).some((o) => o.valueString === v);
    return listed ? { answer: { valueString: v } } : wrongType(`must be one of ${optionList(q)}`);
  }
  if (!isObject(v)) {
    return wrongType('must be a Coding');
  }
  const extra = Object.keys(v).find((k) => !CODING_ELEMENTS.has(k));
  if (extra !== undefined) {
    return {
      problem: "an answer Coding holds system, code and the option's display only",
      element: `.${extra}`,
      reason: 'unexpected-element',
    };
  }
  const option = (q.answerOption ?? []).find(
    (o) => o.valueCoding && o.valueCoding.code === v.code && (o.valueCoding.system ?? '') === (v.system ?? ''),
  )?.valueCoding;
  if (!option) {
    return wrongType(`must be one of ${optionList(q)}`);
  }
  if (v.display !== undefined && v.display !== option.display) {
    return {
      problem: "differs from the option's display in the Questionnaire; leave it out or send it unchanged",
      element: '.display',
      reason: 'unexpected-element',
    };
  }
  const { system, code, display } = option;
  return {
    answer: {
      valueCoding: { ...(system ? { system } : {}), ...(code ? { code } : {}), ...(display ? { display } : {}) },
    },
  };
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function optionList(q: QuestionnaireItem): string {
  return (q.answerOption ?? []).map((o) => o.valueCoding?.code ?? o.valueString ?? '').join(', ');
}

/** Checks a QuestionnaireResponse against its Questionnaire: a list of problems, empty when it answers it. */
export function checkResponse(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  pathOf: (linkId: string) => string,
): IssueInput[] {
  const issues: IssueInput[] = [];
  const questions = flatten(questionnaire.item);
  const byLinkId = new Map(questions.map((i) => [i.linkId, i]));
  const answers = answerMap(response.item);
  for (const [linkId, given] of answers) {
    const item = byLinkId.get(linkId);
    if (!item) {
      issues.push({
        diagnostics: `${pathOf(linkId)}: the questionnaire has no question "${linkId}"`,
        expression: pathOf(linkId),
        reason: 'unknown-question',
      });
      continue;
    }
    for (const a of given) {
      const problem = answerProblem(item, a);
      if (problem) {
        issues.push({
          diagnostics: `${pathOf(linkId)}: ${problem}`,
          expression: pathOf(linkId),
          reason: 'wrong-answer-type',
        });
      }
    }
    if (given.length > 1 && !item.repeats) {
      issues.push({
        diagnostics: `${pathOf(linkId)}: only one answer is allowed`,
        expression: pathOf(linkId),
        reason: 'wrong-answer-type',
      });
    }
  }
  for (const item of questions) {
    if (
      item.required &&
      item.type !== 'display' &&
      item.type !== 'group' &&
      enabled(item, answers) &&
      (answers.get(item.linkId) ?? []).length === 0
    ) {
      issues.push({
        diagnostics: `${pathOf(item.linkId)}: "${item.text ?? item.linkId}" is required`,
        expression: pathOf(item.linkId),
        reason: 'required-answer-missing',
      });
    }
    if (!enabled(item, answers) && (answers.get(item.linkId) ?? []).length > 0) {
      issues.push({
        diagnostics: `${pathOf(item.linkId)}: this question does not apply given the other answers`,
        expression: pathOf(item.linkId),
        reason: 'answer-not-enabled',
      });
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
      return has('valueString') && (a.valueString ?? '').trim() !== ''
        ? undefined
        : 'the answer must be a non-empty valueString';
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
        (o) =>
          (o.valueCoding &&
            a.valueCoding?.code === o.valueCoding.code &&
            (a.valueCoding?.system ?? '') === (o.valueCoding.system ?? '')) ||
          (o.valueString !== undefined && a.valueString === o.valueString),
      );
      return ok
        ? undefined
        : `the answer must be one of ${(item.answerOption ?? []).map((o) => o.valueCoding?.code ?? o.valueString ?? '').join(', ')}`;
    }
    case 'display':
    case 'group':
      return 'this item takes no answer';
    default:
      return undefined;
  }
}

/** Every answer by linkId, wherever it sits: under a group's `item` or under an answer's `item`. */
function answerMap(
  items: readonly QuestionnaireResponseItem[] | undefined,
  into = new Map<string, QuestionnaireResponseItemAnswer[]>(),
): Map<string, QuestionnaireResponseItemAnswer[]> {
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
    return given.length > 0 === (c.answerBoolean ?? true);
  }
  const expected =
    c.answerBoolean ?? c.answerCoding?.code ?? c.answerString ?? c.answerInteger ?? c.answerDecimal ?? c.answerDate;
  const matches = given.some(
    (a) =>
      (a.valueBoolean ?? a.valueCoding?.code ?? a.valueString ?? a.valueInteger ?? a.valueDecimal ?? a.valueDate) ===
      expected,
  );
  return c.operator === '!=' ? !matches : matches;
}

/**
 * The requester's view: built anew from the answers whose data class the consent discloses (linkId, the
 * Questionnaire's text, the one checked value of each answer, nested answers likewise); answers of other
 * classes are left out, the response is marked REDACTED and its narrative says which classes were withheld
 * (never their content). An answer whose question is not in the Questionnaire has no class the gateway
 * assigned, so it never goes.
 */
export function minimiseResponse(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  disclose: readonly string[],
): { response: QuestionnaireResponse; withheld: string[] } {
  const questions = new Map(flatten(questionnaire.item).map((i) => [i.linkId, i]));
  const withheld = new Set<string>();
  const keep = (items: readonly QuestionnaireResponseItem[] | undefined): QuestionnaireResponseItem[] =>
    (items ?? []).flatMap((i): QuestionnaireResponseItem[] => {
      const q = questions.get(i.linkId);
      if (!q) {
        return [];
      }
      const cls = itemDataClass(q);
      if (cls && !disclose.includes(cls)) {
        withheld.add(cls);
        return [];
      }
      // FHIR has no empty arrays: a nested list that loses every item loses the list.
      const nested = (list: readonly QuestionnaireResponseItem[] | undefined) => {
        const kept = keep(list);
        return kept.length > 0 ? { item: kept } : {};
      };
      const answer = (i.answer ?? [])
        .map((a) => ({ ...answerValue(a), ...nested(a.item) }))
        .filter((a) => Object.keys(a).length > 0);
      const children = nested(i.item);
      if (answer.length === 0 && !children.item) {
        return [];
      }
      return [
        { linkId: q.linkId, ...(q.text ? { text: q.text } : {}), ...(answer.length ? { answer } : {}), ...children },
      ];
    });
  const item = keep(response.item);
  const classes = [...withheld].sort();
  return {
    response: {
      resourceType: 'QuestionnaireResponse',
      ...(response.id ? { id: response.id } : {}),
      ...(classes.length ? { meta: { security: [REDACTED] } } : {}),
      text: responseNarrative(item, classes),
      ...(response.questionnaire ? { questionnaire: response.questionnaire } : {}),
      ...(response.basedOn ? { basedOn: response.basedOn } : {}),
      status: response.status,
      ...(response.subject ? { subject: response.subject } : {}),
      ...(response.authored ? { authored: response.authored } : {}),
      ...(response.author ? { author: response.author } : {}),
      item,
    },
    withheld: classes,
  };
}

/** The one value of an answer, and nothing else it may hold. */
function answerValue(a: QuestionnaireResponseItemAnswer): QuestionnaireResponseItemAnswer {
  const { valueBoolean, valueDecimal, valueInteger, valueDate, valueDateTime, valueString, valueCoding } = a;
  const coding = valueCoding
    ? {
        valueCoding: {
          ...(valueCoding.system ? { system: valueCoding.system } : {}),
          ...(valueCoding.code ? { code: valueCoding.code } : {}),
          ...(valueCoding.display ? { display: valueCoding.display } : {}),
        },
      }
    : undefined;
  const values: QuestionnaireResponseItemAnswer[] = [
    ...(valueBoolean !== undefined ? [{ valueBoolean }] : []),
    ...(valueDecimal !== undefined ? [{ valueDecimal }] : []),
    ...(valueInteger !== undefined ? [{ valueInteger }] : []),
    ...(valueDate !== undefined ? [{ valueDate }] : []),
    ...(valueDateTime !== undefined ? [{ valueDateTime }] : []),
    ...(valueString !== undefined ? [{ valueString }] : []),
    ...(coding ? [coding] : []),
  ];
  return values[0] ?? {};
}

/** The data classes a response actually carries: what its disclosure is, for the audit and the check before delivery. */
export function answeredDataClasses(response: QuestionnaireResponse, questionnaire: Questionnaire): string[] {
  const classOf = new Map(flatten(questionnaire.item).map((i) => [i.linkId, itemDataClass(i)]));
  return [
    ...new Set(
      [...answerMap(response.item).keys()]
        .map((linkId) => classOf.get(linkId))
        .filter((c): c is string => c !== undefined),
    ),
  ].sort();
}

function responseNarrative(
  items: readonly QuestionnaireResponseItem[],
  withheld: readonly string[] = [],
): ReturnType<typeof narrativeList> {
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
  return String(
    a.valueString ??
      a.valueCoding?.display ??
      a.valueCoding?.code ??
      a.valueDate ??
      a.valueDateTime ??
      a.valueInteger ??
      a.valueDecimal ??
      '',
  );
}
