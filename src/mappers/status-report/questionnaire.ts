import type { Questionnaire, QuestionnaireItem } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrativeList } from '../narrative';
import { SYSTEM } from '../systems';
import type { NativeQuestion, QuestionType } from './types';

/**
 * The Questionnaire a physician is asked to answer: a copy of the standard set (derivedFrom its canonical)
 * with the jobcentre's own questions after it, or only those. Every item says which data class its answer
 * is (Questionnaire.item.code in sektorbro-data-class), so minimisation can withhold exactly the answers
 * the consent does not cover.
 */
export const UNCLASSIFIED_ANSWER_CLASS = 'clinical-notes';

const FHIR_TYPE: Record<QuestionType, QuestionnaireItem['type']> = {
  boolean: 'boolean',
  string: 'string',
  text: 'text',
  date: 'date',
  integer: 'integer',
  decimal: 'decimal',
  choice: 'choice',
};

export function composeQuestionnaire(args: {
  base: Questionnaire | undefined;
  questions: readonly NativeQuestion[];
  title: string;
  ctx: MappingContext;
  library: QuestionLibrary;
  linkIdPrefix?: string;
}): Questionnaire {
  const { base, ctx } = args;
  const prefix = args.linkIdPrefix ?? 'custom';
  const custom = args.questions.map((q, i) => customItem(q, q.linkId ?? `${prefix}-${i + 1}`, args.library));
  const items = [...(base?.item ?? []), ...custom];
  return {
    resourceType: 'Questionnaire',
    id: ctx.newId(),
    text: narrativeList(
      args.title,
      flatten(items)
        .filter((i) => i.type !== 'display' && i.type !== 'group')
        .map((i) => `${i.text ?? i.linkId}${i.required ? ' *' : ''}`),
    ),
    ...(base?.url ? { derivedFrom: [base.url] } : {}),
    ...(base?.name ? { name: base.name } : { name: 'SektorbroStatusCustom' }),
    title: args.title,
    status: 'active',
    subjectType: ['Patient'],
    date: ctx.now.toISOString(),
    ...(base?.code ? { code: base.code } : {}),
    item: items,
  };
}

function customItem(q: NativeQuestion, linkId: string, library: QuestionLibrary): QuestionnaireItem {
  const item: QuestionnaireItem = {
    linkId,
    text: q.text,
    type: FHIR_TYPE[q.type],
    required: q.required ?? false,
    ...(q.type === 'choice'
      ? { answerOption: (q.options ?? []).map((o) => ({ valueCoding: { code: o, display: o } })) }
      : {}),
  };
  return { ...item, code: [{ system: SYSTEM.dataClass, code: assignedDataClass(item, library) }] };
}

/**
 * The gateway's question library: every question of the standard sets by linkId, with the data class the
 * gateway gave it. Only the library says what a question's answer is; whoever asks cannot label it.
 */
export type QuestionLibrary = ReadonlyMap<string, QuestionnaireItem>;

export function questionLibrary(sets: readonly Questionnaire[]): QuestionLibrary {
  const library = new Map<string, QuestionnaireItem>();
  for (const item of sets.flatMap((s) => flatten(s.item))) {
    if (itemDataClass(item) && !library.has(item.linkId)) {
      library.set(item.linkId, item);
    }
  }
  return library;
}

/**
 * The data class the gateway assigns a question a requester wrote: the library's class when it is a library
 * question word for word (same linkId, type, text and options), else clinical notes, the most sensitive class
 * free text can hold. A question's own wording decides what its answer reveals ("Which diagnosis does the
 * citizen have?" with a yes/no or a free-text answer alike), and the gateway cannot read wording, so a
 * requester's label ("functional-capacity") is never taken.
 */
export function assignedDataClass(item: QuestionnaireItem, library: QuestionLibrary): string {
  const known = library.get(item.linkId);
  const options = (i: QuestionnaireItem) =>
    JSON.stringify((i.answerOption ?? []).map((o) => [o.valueCoding?.system, o.valueCoding?.code, o.valueString]));
  if (known && known.type === item.type && known.text === item.text && options(known) === options(item)) {
    return itemDataClass(known) ?? UNCLASSIFIED_ANSWER_CLASS;
  }
  return UNCLASSIFIED_ANSWER_CLASS;
}

export function flatten(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).flatMap((i) => [i, ...flatten(i.item)]);
}

/**
 * The data class of an item's answer. The standard sets leave it out only where the answer is no health
 * information (whether the physician knows the patient); questions a requester writes always get one.
 */
export function itemDataClass(item: QuestionnaireItem): string | undefined {
  if (item.type === 'display' || item.type === 'group') {
    return undefined;
  }
  return item.code?.find((c) => c.system === SYSTEM.dataClass)?.code;
}

/**
 * A requester's own Questionnaire items (FHIR input) with the data classes the gateway assigns: any
 * sektorbro-data-class code the requester put on an item is replaced by assignedDataClass's.
 */
export function classifyRequesterItems(
  items: readonly QuestionnaireItem[] | undefined,
  library: QuestionLibrary,
): QuestionnaireItem[] {
  return (items ?? []).map((i) => {
    const { code, item, ...rest } = i;
    const otherCodes = (code ?? []).filter((c) => c.system !== SYSTEM.dataClass);
    const answerable = i.type !== 'display' && i.type !== 'group';
    const codes = [
      ...otherCodes,
      ...(answerable ? [{ system: SYSTEM.dataClass, code: assignedDataClass(i, library) }] : []),
    ];
    return {
      ...rest,
      ...(codes.length ? { code: codes } : {}),
      ...(item ? { item: classifyRequesterItems(item, library) } : {}),
    };
  });
}

/** Every data class the answers to this Questionnaire can carry. */
export function questionnaireDataClasses(q: Questionnaire): string[] {
  return [
    ...new Set(
      flatten(q.item)
        .map(itemDataClass)
        .filter((c): c is string => c !== undefined),
    ),
  ];
}
