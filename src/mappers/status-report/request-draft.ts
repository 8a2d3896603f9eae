import { calendarProblem } from '../../validation/calendar';
import type { Questionnaire, QuestionnaireItem, Task } from 'fhir/r4';
import type { IssueInput } from '../../errors';
import type { MappingContext } from '../context';
import { SYSTEM } from '../systems';
import { classifyRequesterItems, composeQuestionnaire, flatten, itemDataClass, questionLibrary } from './questionnaire';
import type { NativeQuestion, NativeStatusReportRequest, QuestionSet } from './types';

/**
 * A status-report request made ready to store: the Questionnaire the physician will see, the deadline as
 * an instant, the purpose. Native JSON and a FHIR Task (with a contained or a referenced Questionnaire)
 * become the same draft, and every problem is reported at once, naming the field.
 */
export const DEFAULT_LAE125_DAYS = 14;
const MAX_DEADLINE_DAYS = 366;
const DAY_MS = 24 * 3600 * 1000;

export const DEFAULT_PURPOSE: Record<QuestionSet, string> = {
  LAE125: 'work-capacity-assessment',
  LAE285: 'sickness-benefit-follow-up',
  custom: 'work-capacity-assessment',
};

export type StandardSets = Readonly<Record<Exclude<QuestionSet, 'custom'>, Questionnaire>>;

export interface RequestDraft {
  patientCpr: string;
  questionSet: QuestionSet;
  purpose: string;
  reason: string;
  questionnaire: Questionnaire;
  dueAt: Date;
  addresseeSor: string | undefined;
  caseworker: NativeStatusReportRequest['caseworker'] | undefined;
}

const TITLE: Record<QuestionSet, string> = {
  LAE125: 'Statusattest (LÆ 125)',
  LAE285: 'Lægeattest til opfølgning af sygedagpenge (LÆ 285)',
  custom: 'Spørgsmål fra kommunen (questions from the municipality)',
};

export function draftRequest(
  input: NativeStatusReportRequest,
  sets: StandardSets,
  ctx: MappingContext,
  options: { extraItems?: QuestionnaireItem[]; paths?: { deadline: string; questions: string } } = {},
): { draft?: RequestDraft; issues: IssueInput[]; notes: IssueInput[] } {
  const paths = options.paths ?? { deadline: 'deadline', questions: 'questions' };
  const issues: IssueInput[] = [];
  const base = input.questionSet === 'custom' ? undefined : sets[input.questionSet];
  const questions = input.questions ?? [];
  const library = questionLibrary(Object.values(sets));
  const extra = classifyRequesterItems(options.extraItems, library);
  const notes = relabelled(options.extraItems ?? [], extra, paths.questions);
  if (input.questionSet === 'custom' && questions.length === 0 && extra.length === 0) {
    issues.push({
      diagnostics: `${paths.questions}: a custom request needs at least one question (or choose questionSet LAE125 or LAE285)`,
      expression: paths.questions,
      reason: 'no-questions',
    });
  }
  questions.forEach((q, i) => {
    if (q.type === 'choice' && (q.options ?? []).length < 2) {
      issues.push({
        diagnostics: `${paths.questions}[${i}].options: a choice question needs at least two options`,
        expression: `${paths.questions}[${i}].options`,
      });
    }
  });
  const dueAt = deadlineOf(input, ctx.now, paths.deadline, issues);
  const composed = composeQuestionnaire({ base, questions, title: TITLE[input.questionSet], ctx, library });
  const questionnaire: Questionnaire = {
    ...composed,
    url: `urn:uuid:${composed.id ?? ''}`,
    item: [...(composed.item ?? []), ...extra],
  };
  const seen = new Set<string>();
  for (const item of flatten(questionnaire.item)) {
    if (seen.has(item.linkId)) {
      issues.push({
        diagnostics: `${paths.questions}: linkId "${item.linkId}" is used twice`,
        expression: paths.questions,
        reason: 'duplicate-question',
      });
    }
    seen.add(item.linkId);
  }
  const custom = (composed.item ?? []).slice(base?.item?.length ?? 0);
  questions.forEach((q, i) => {
    const assigned = custom[i] ? itemDataClass(custom[i]) : undefined;
    if (q.dataClass !== undefined && assigned !== undefined && q.dataClass !== assigned) {
      notes.push(relabelNote(`${paths.questions}[${i}].dataClass`, q.dataClass, assigned));
    }
  });
  if (issues.length > 0 || !dueAt) {
    return { issues, notes };
  }
  return {
    issues,
    notes,
    draft: {
      patientCpr: input.patient.cpr,
      questionSet: input.questionSet,
      purpose: input.purpose ?? DEFAULT_PURPOSE[input.questionSet],
      reason: input.reason,
      questionnaire,
      dueAt,
      addresseeSor: input.addressee?.sor,
      caseworker: input.caseworker,
    },
  };
}

/** The question types a requester's Questionnaire may use: those the gateway can check an answer to. */
const REQUESTER_TYPES = new Set([
  'group',
  'display',
  'boolean',
  'decimal',
  'integer',
  'date',
  'dateTime',
  'string',
  'text',
  'choice',
]);
const ITEM_ELEMENTS = new Set([
  'linkId',
  'text',
  'type',
  'required',
  'repeats',
  'answerOption',
  'enableWhen',
  'enableBehavior',
  'code',
  'item',
]);
const ENABLE_WHEN_ELEMENTS = new Set([
  'question',
  'operator',
  'answerBoolean',
  'answerDecimal',
  'answerInteger',
  'answerDate',
  'answerString',
  'answerCoding',
]);

/**
 * A requester's own Questionnaire items (contained in a FHIR Task) rebuilt from the elements the gateway
 * checks and uses: linkId, text, type (one the gateway can check answers to), required, repeats, options
 * (a Coding of system, code and display, or a string), enableWhen, codes and nested items. Anything else
 * (extensions, initial values, answerValueSet, ids...) is an issue naming the element.
 */
function requesterItems(items: readonly QuestionnaireItem[], path: string, issues: IssueInput[], single = false) {
  return items.map((raw, i): QuestionnaireItem => {
    const at = single ? path : `${path}[${i}]`;
    const refuse = (el: string, why: string) =>
      issues.push({ diagnostics: `${at}.${el}: ${why}`, expression: `${at}.${el}`, reason: 'unexpected-element' });
    for (const key of Object.keys(raw).filter((k) => !ITEM_ELEMENTS.has(k))) {
      refuse(key, 'the gateway does not take this element in a question');
    }
    if (!REQUESTER_TYPES.has(raw.type)) {
      refuse('type', `questions of type ${raw.type} cannot be asked (${[...REQUESTER_TYPES].join(', ')})`);
    }
    const options = (raw.answerOption ?? []).map((o, n) => {
      const extra = Object.keys(o).filter((k) => k !== 'valueCoding' && k !== 'valueString');
      extra.forEach((k) => refuse(`answerOption[${n}].${k}`, 'an option is a valueCoding or a valueString'));
      if (o.valueCoding) {
        Object.keys(o.valueCoding)
          .filter((k) => !['system', 'code', 'display'].includes(k))
          .forEach((k) =>
            refuse(`answerOption[${n}].valueCoding.${k}`, 'an option Coding holds system, code and display'),
          );
        const { system, code, display } = o.valueCoding;
        return {
          valueCoding: { ...(system ? { system } : {}), ...(code ? { code } : {}), ...(display ? { display } : {}) },
        };
      }
      return { valueString: o.valueString ?? '' };
    });
    const enableWhen = (raw.enableWhen ?? []).map((w, n) => {
      Object.keys(w)
        .filter((k) => !ENABLE_WHEN_ELEMENTS.has(k))
        .forEach((k) => refuse(`enableWhen[${n}].${k}`, 'the gateway does not take this element in a condition'));
      return Object.fromEntries(
        Object.entries(w).filter(([k]) => ENABLE_WHEN_ELEMENTS.has(k)),
      ) as unknown as NonNullable<QuestionnaireItem['enableWhen']>[number];
    });
    return {
      linkId: raw.linkId,
      ...(raw.text !== undefined ? { text: raw.text } : {}),
      type: raw.type,
      ...(raw.required !== undefined ? { required: raw.required } : {}),
      ...(raw.repeats !== undefined ? { repeats: raw.repeats } : {}),
      ...(options.length ? { answerOption: options } : {}),
      ...(enableWhen.length ? { enableWhen } : {}),
      ...(raw.enableBehavior ? { enableBehavior: raw.enableBehavior } : {}),
      ...(raw.code
        ? {
            code: raw.code.map((c) => ({
              ...(c.system ? { system: c.system } : {}),
              ...(c.code ? { code: c.code } : {}),
              ...(c.display ? { display: c.display } : {}),
            })),
          }
        : {}),
      ...(raw.item ? { item: requesterItems(raw.item, `${at}.item`, issues) } : {}),
    };
  });
}

/** Where a requester labelled its own question with another data class than the gateway assigned: a warning. */
function relabelled(given: readonly QuestionnaireItem[], classified: readonly QuestionnaireItem[], path: string) {
  const notes: IssueInput[] = [];
  const walk = (a: readonly QuestionnaireItem[], b: readonly QuestionnaireItem[], at: string) => {
    a.forEach((item, i) => {
      const label = item.code?.find((c) => c.system === SYSTEM.dataClass)?.code;
      const assigned = b[i] ? itemDataClass(b[i]) : undefined;
      if (label !== undefined && assigned !== undefined && label !== assigned) {
        notes.push(relabelNote(`${at}.item[${i}].code`, label, assigned));
      }
      walk(item.item ?? [], b[i]?.item ?? [], `${at}.item[${i}]`);
    });
  };
  walk(given, classified, path);
  return notes;
}

function relabelNote(path: string, label: string, assigned: string): IssueInput {
  return {
    severity: 'warning',
    code: 'informational',
    diagnostics: `${path}: the gateway assigns the data class of a question from its question library; this question is not in it, so its answer counts as ${assigned}, not ${label}`,
    expression: path,
    reason: 'data-class-assigned',
  };
}

/** A follow-up: the requester's new questions, threaded onto the original (same patient, addressee, purpose). */
export function followUpInput(
  original: { patientCpr: string; purpose: string; ownerSor: string },
  input: { questions: NativeQuestion[]; reason: string; deadline?: string | undefined },
): NativeStatusReportRequest {
  return {
    patient: { cpr: original.patientCpr },
    questionSet: 'custom',
    questions: input.questions.map((q, i) => ({ ...q, linkId: q.linkId ?? `follow-up-${i + 1}` })),
    reason: input.reason,
    ...(input.deadline ? { deadline: input.deadline } : {}),
    addressee: { sor: original.ownerSor },
    purpose: original.purpose as NativeStatusReportRequest['purpose'],
  };
}

function deadlineOf(input: NativeStatusReportRequest, now: Date, path: string, issues: IssueInput[]): Date | undefined {
  if (!input.deadline) {
    if (input.questionSet === 'LAE125') {
      return new Date(now.getTime() + DEFAULT_LAE125_DAYS * DAY_MS);
    }
    issues.push({
      diagnostics: `${path}: ${input.questionSet === 'LAE285' ? 'the municipality sets the deadline of an LÆ 285' : 'a custom request needs a deadline'} (a date or a date-time)`,
      expression: path,
      reason: 'deadline-required',
    });
    return undefined;
  }
  const due = parseDeadline(input.deadline);
  if (!due) {
    issues.push({
      diagnostics: `${path}: "${input.deadline}" is not a date (YYYY-MM-DD) or a date-time with a time zone`,
      expression: path,
      reason: 'invalid-deadline',
    });
    return undefined;
  }
  if (due.getTime() <= now.getTime()) {
    issues.push({
      diagnostics: `${path}: the deadline ${input.deadline} has already passed`,
      expression: path,
      reason: 'invalid-deadline',
    });
    return undefined;
  }
  if (due.getTime() > now.getTime() + MAX_DEADLINE_DAYS * DAY_MS) {
    issues.push({
      diagnostics: `${path}: the deadline may be at most a year ahead`,
      expression: path,
      reason: 'invalid-deadline',
    });
    return undefined;
  }
  return due;
}

/** A date-only deadline lasts to the end of that day in Denmark (Europe/Copenhagen, summer time included). */
export function parseDeadline(value: string): Date | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const utcEnd = new Date(`${value}T23:59:59.999Z`);
    if (Number.isNaN(utcEnd.getTime()) || utcEnd.toISOString().slice(0, 10) !== value) {
      return undefined;
    }
    return new Date(utcEnd.getTime() - copenhagenOffsetMs(utcEnd));
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    return undefined;
  }
  // new Date() rolls 2027-02-30T12:00 over to 2 March; a deadline must name a day that exists.
  if (calendarProblem(value)) {
    return undefined;
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function copenhagenOffsetMs(at: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Copenhagen',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(at.getTime() / 1000) * 1000;
}

/** A FHIR Task (with its Questionnaire contained, or a standard set by canonical) as the native request. */
export function nativeFromTask(
  task: Task,
  sets: StandardSets,
): { input: NativeStatusReportRequest; extraItems: QuestionnaireItem[]; issues: IssueInput[] } {
  const issues: IssueInput[] = [];
  const cpr = task.for?.identifier?.system === SYSTEM.cpr ? task.for.identifier.value : undefined;
  if (!cpr || !/^[0-9]{10}$/.test(cpr)) {
    issues.push({
      diagnostics: `Task.for.identifier: the patient's CPR number (system ${SYSTEM.cpr}, 10 digits) is required`,
      expression: 'Task.for.identifier',
    });
  }
  const reason = task.description ?? task.reasonCode?.text;
  if (!reason?.trim()) {
    issues.push({
      diagnostics: 'Task.description: say in plain words why the municipality asks',
      expression: 'Task.description',
    });
  }
  const input = (task.input ?? []).find((i) => i.type.coding?.some((c) => c.code === 'questionnaire'));
  let questionSet: QuestionSet = 'custom';
  let extraItems: QuestionnaireItem[] = [];
  if (!input) {
    issues.push({
      diagnostics:
        "Task.input: an input of type 'questionnaire' (valueCanonical of a standard set, or valueReference to a contained Questionnaire) is required",
      expression: 'Task.input',
    });
  } else if (input.valueCanonical) {
    const found = (Object.keys(sets) as Array<keyof StandardSets>).find((k) => sets[k].url === input.valueCanonical);
    if (!found) {
      issues.push({
        diagnostics: `Task.input.valueCanonical: ${input.valueCanonical} is not a standard question set (${Object.values(
          sets,
        )
          .map((s) => s.url ?? '')
          .join(', ')})`,
        expression: 'Task.input.valueCanonical',
      });
    } else {
      questionSet = found;
    }
  } else if (input.valueReference?.reference?.startsWith('#')) {
    const id = input.valueReference.reference.slice(1);
    const q = (task.contained ?? []).find((r) => r.resourceType === 'Questionnaire' && r.id === id) as
      | Questionnaire
      | undefined;
    if (!q?.item?.length) {
      issues.push({
        diagnostics: `Task.input.valueReference: no contained Questionnaire "${id}" with items`,
        expression: 'Task.contained',
      });
    } else {
      const derived = (Object.keys(sets) as Array<keyof StandardSets>).find((k) =>
        q.derivedFrom?.includes(sets[k].url ?? ''),
      );
      questionSet = derived ?? 'custom';
      const standardIds = new Set(derived ? flatten(sets[derived].item).map((i) => i.linkId) : []);
      const at = `Task.contained[${(task.contained ?? []).indexOf(q)}]`;
      extraItems = q.item.flatMap((item, n) =>
        standardIds.has(item.linkId) ? [] : requesterItems([item], `${at}.item[${n}]`, issues, true),
      );
    }
  } else {
    issues.push({
      diagnostics:
        'Task.input.value[x]: give valueCanonical (a standard set) or valueReference "#id" (a contained Questionnaire)',
      expression: 'Task.input',
    });
  }
  const owner = task.owner?.identifier;
  if (owner && owner.system !== SYSTEM.sor) {
    issues.push({
      diagnostics: `Task.owner.identifier: name the physician's organisation by SOR (${SYSTEM.sor})`,
      expression: 'Task.owner.identifier',
    });
  }
  const purpose = task.reasonCode?.coding?.find((c) => c.system === SYSTEM.purpose)?.code;
  return {
    input: {
      patient: { cpr: cpr ?? '' },
      questionSet,
      reason: reason ?? '',
      ...(task.restriction?.period?.end ? { deadline: task.restriction.period.end } : {}),
      ...(owner?.value && owner.system === SYSTEM.sor ? { addressee: { sor: owner.value } } : {}),
      ...(purpose === 'work-capacity-assessment' || purpose === 'sickness-benefit-follow-up' ? { purpose } : {}),
    },
    extraItems,
    issues,
  };
}
