import type { Coding, Questionnaire, QuestionnaireItem } from 'fhir/r4';
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
  linkIdPrefix?: string;
}): Questionnaire {
  const { base, ctx } = args;
  const prefix = args.linkIdPrefix ?? 'custom';
  const custom = args.questions.map((q, i) => customItem(q, q.linkId ?? `${prefix}-${i + 1}`));
  const items = [...(base?.item ?? []), ...custom];
  return {
    resourceType: 'Questionnaire',
    id: ctx.newId(),
    text: narrativeList(args.title, flatten(items).filter((i) => i.type !== 'display' && i.type !== 'group').map((i) => `${i.text ?? i.linkId}${i.required ? ' *' : ''}`)),
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

function customItem(q: NativeQuestion, linkId: string): QuestionnaireItem {
  const dataClass: Coding = { system: SYSTEM.dataClass, code: q.dataClass ?? UNCLASSIFIED_ANSWER_CLASS };
  return {
    linkId,
    text: q.text,
    type: FHIR_TYPE[q.type],
    required: q.required ?? false,
    code: [dataClass],
    ...(q.type === 'choice' ? { answerOption: (q.options ?? []).map((o) => ({ valueCoding: { code: o, display: o } })) } : {}),
  };
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

/** A requester's own Questionnaire (FHIR input): an item that does not say what it asks for counts as clinical notes. */
export function classifyRequesterItems(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).map((i) => ({
    ...i,
    ...(i.type !== 'display' && i.type !== 'group' && !itemDataClass(i) ? { code: [...(i.code ?? []), { system: SYSTEM.dataClass, code: UNCLASSIFIED_ANSWER_CLASS }] } : {}),
    ...(i.item ? { item: classifyRequesterItems(i.item) } : {}),
  }));
}

/** Every data class the answers to this Questionnaire can carry. */
export function questionnaireDataClasses(q: Questionnaire): string[] {
  return [...new Set(flatten(q.item).map(itemDataClass).filter((c): c is string => c !== undefined))];
}
