import type {
  Bundle,
  Composition,
  MessageHeader,
  Organization,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  Resource,
} from 'fhir/r4';

/**
 * A readable summary of a FHIR message a demo receiver got: its kind (MessageHeader.eventCoding), who sent
 * it (MessageHeader.sender / source), the document's sections (Composition.section titles), the answers of
 * a QuestionnaireResponse (by linkId), and what was withheld (a "withheld" section's text, or a resource
 * marked meta.security REDACTED). Names and codes only: never the clinical text itself, nor the CPR number.
 */
export interface MessageSummary {
  kind: string;
  sender: string;
  sections: string[];
  answers: string[];
  withheld: string[];
  redacted: boolean;
}

export function summariseMessage(bundle: Bundle): MessageSummary {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const header = resources.find((r): r is MessageHeader => r.resourceType === 'MessageHeader');
  const event = header?.eventCoding ?? header?.eventUri;
  const kind = typeof event === 'string' ? event : (event?.display ?? event?.code ?? 'unknown');
  const compositions = resources.filter((r): r is Composition => r.resourceType === 'Composition');
  // Who it is from: the responsible organisation (or author), not the gateway that relays it.
  const named = (ref: Reference | undefined): string | undefined => {
    if (!ref) {
      return undefined;
    }
    const target = (bundle.entry ?? []).find((e) => ref.reference && e.fullUrl === ref.reference)?.resource;
    const name = target && 'name' in target ? (target as Organization).name : undefined;
    return ref.display ?? (typeof name === 'string' ? name : undefined) ?? ref.identifier?.value;
  };
  const sender =
    named(header?.responsible) ??
    named(compositions[0]?.custodian) ??
    named(header?.author) ??
    named(compositions[0]?.author?.[0]) ??
    named(header?.sender) ??
    header?.source?.name ??
    'unknown';
  const sections = compositions.flatMap((c) => flattenSections(c.section ?? []));
  const withheld = compositions.flatMap((c) =>
    flattenSectionObjects(c.section ?? [])
      .filter((s) => s.code?.coding?.some((x) => x.code === 'withheld'))
      .map((s) => plainText(s.text?.div ?? s.title ?? 'withheld')),
  );
  const responses = resources.filter((r): r is QuestionnaireResponse => r.resourceType === 'QuestionnaireResponse');
  const answers = responses.flatMap((q) => linkIds(q.item ?? []));
  const redactedResponses = responses.filter((q) => q.meta?.security?.some((s) => s.code === 'REDACTED'));
  withheld.push(...redactedResponses.map((q) => plainText(q.text?.div ?? 'answers withheld')).filter(Boolean));
  const redacted = [...resources, ...compositions].some((r) => r.meta?.security?.some((s) => s.code === 'REDACTED'));
  return { kind, sender, sections, answers, withheld: [...new Set(withheld)], redacted };
}

/** The summary as the lines the demo receiver prints. */
export function formatSummary(s: MessageSummary, path: string, at: Date): string {
  return [
    `${at.toISOString()} ${path || '/'}: ${s.kind} from ${s.sender}`,
    ...(s.sections.length ? [`  sections: ${s.sections.join('; ')}`] : []),
    ...(s.answers.length ? [`  answers: ${s.answers.join(', ')}`] : []),
    ...(s.withheld.length
      ? [`  withheld: ${s.withheld.join(' | ')}`]
      : s.redacted
        ? ['  withheld: (marked REDACTED)']
        : []),
  ].join('\n');
}

type Section = NonNullable<Composition['section']>[number];

function flattenSectionObjects(sections: Section[]): Section[] {
  return sections.flatMap((s) => [s, ...flattenSectionObjects(s.section ?? [])]);
}

function flattenSections(sections: Section[]): string[] {
  return flattenSectionObjects(sections).map(
    (s) => s.title ?? s.code?.coding?.[0]?.display ?? s.code?.coding?.[0]?.code ?? '?',
  );
}

function linkIds(items: QuestionnaireResponseItem[]): string[] {
  return items.flatMap((i) => [...((i.answer ?? []).length ? [i.linkId] : []), ...linkIds(i.item ?? [])]);
}

function plainText(div: string): string {
  return div
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}
