import type {
  CodeableConcept,
  Coding,
  Composition,
  CompositionSection,
  Condition,
  Encounter,
  MedicationStatement,
  Resource,
} from 'fhir/r4';
import type { ClinicalDocument } from './clinical-document';
import { SECTION } from './discharge-letter/sections';
import { narrative, narrativeList } from './narrative';
import { outsideHealthResource } from './outside-health-view';

/**
 * The view of a clinical document a recipient outside health care may see: only the data classes the
 * consent decision discloses. Diagnoses (Condition, the diagnoses section, Encounter.diagnosis), medication
 * (MedicationStatement, the medication section) and clinical notes (course, letter text, notes, attachments)
 * are each withheld unless disclosed; the follow-up plan (treatment plan in outline) and whom to contact
 * stay. What was withheld is said (a section naming the classes, never their content) and marked
 * meta.security REDACTED, and the result still conforms to the profiles.
 */
export const WITHHOLDABLE = ['diagnosis', 'medication', 'clinical-notes'] as const;
export type WithholdableClass = (typeof WITHHOLDABLE)[number];

const REDACTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'REDACTED',
  display: 'redacted',
};

const RESOURCE_CLASS: Partial<Record<Resource['resourceType'], WithholdableClass>> = {
  Condition: 'diagnosis',
  MedicationStatement: 'medication',
  MedicationRequest: 'medication',
  DocumentReference: 'clinical-notes',
  Observation: 'clinical-notes',
};

const SECTION_CLASS: Record<string, WithholdableClass> = {
  [SECTION.diagnoses.code ?? '']: 'diagnosis',
  [SECTION.medications.code ?? '']: 'medication',
  '10160-0': 'medication',
  [SECTION.course.code ?? '']: 'clinical-notes',
  [SECTION.letterText.code ?? '']: 'clinical-notes',
  [SECTION.note.code ?? '']: 'clinical-notes',
  [SECTION.attachments.code ?? '']: 'clinical-notes',
};

const CLASS_TEXT: Record<WithholdableClass, string> = {
  diagnosis: 'diagnoser (diagnoses)',
  medication: 'medicin (medication)',
  'clinical-notes': 'kliniske notater og bilag (clinical notes and attachments)',
};

export function minimiseDocument(
  doc: ClinicalDocument,
  disclose: readonly string[],
): { document: ClinicalDocument; withheld: WithholdableClass[] } {
  const withheld = WITHHOLDABLE.filter((c) => !disclose.includes(c));
  if (withheld.length === 0) {
    return { document: doc, withheld };
  }
  // Every resource that goes is built anew for the recipient (outside-health-view.ts); one the gateway has no
  // whitelist for does not go at all, like one of a withheld class.
  const rebuilt = new Map(
    doc.entries
      .filter((e) => e.resource !== doc.composition && !withheldResource(e.resource, withheld))
      .map((e) => [e.fullUrl, outsideHealthResource(e.resource)]),
  );
  const removed = new Set(
    doc.entries
      .filter((e) => e.resource !== doc.composition && rebuilt.get(e.fullUrl) === undefined)
      .map((e) => e.fullUrl),
  );
  const keepSection = (s: CompositionSection): CompositionSection | undefined => {
    const cls = (s.code?.coding ?? []).map((c) => SECTION_CLASS[c.code ?? '']).find(Boolean);
    // A section the gateway cannot classify is clinical text: it goes only where clinical notes may.
    const unclassified =
      !cls &&
      !(s.code?.coding ?? []).some((c) =>
        [
          SECTION.followUp.code,
          SECTION.contact.code,
          SECTION.completeness.code,
          SECTION.patientInformation.code,
        ].includes(c.code),
      );
    if ((cls && withheld.includes(cls)) || (unclassified && withheld.includes('clinical-notes'))) {
      return undefined;
    }
    const entry = s.entry?.filter((r) => !removed.has(r.reference ?? '')).map((r) => ({ reference: r.reference }));
    const section = s.section?.map(keepSection).filter((x): x is CompositionSection => x !== undefined);
    return {
      ...(s.title ? { title: s.title } : {}),
      ...(s.code
        ? {
            code: {
              coding: (s.code.coding ?? []).map(({ system, code, display }) => ({ system, code, display })),
              ...(s.code.text ? { text: s.code.text } : {}),
            },
          }
        : {}),
      ...(s.text ? { text: { status: s.text.status, div: s.text.div } } : {}),
      ...(s.emptyReason ? { emptyReason: s.emptyReason } : {}),
      ...(entry?.length ? { entry } : {}),
      ...(section?.length ? { section } : {}),
    };
  };
  // The Composition is built anew too: its identity, subject, authorship and the sections that go.
  const c = doc.composition;
  const composition: Composition = {
    resourceType: 'Composition',
    ...(c.id ? { id: c.id } : {}),
    meta: {
      ...(c.meta?.profile ? { profile: c.meta.profile } : {}),
      security: [...(c.meta?.security ?? []).map(({ system, code, display }) => ({ system, code, display })), REDACTED],
    },
    text: narrative(c.title, 'Udgave til modtager uden for sundhedsvæsenet (copy for a recipient outside health care)'),
    ...(c.identifier ? { identifier: { system: c.identifier.system, value: c.identifier.value } } : {}),
    status: c.status,
    type: c.type,
    ...(c.category ? { category: c.category } : {}),
    ...(c.subject ? { subject: c.subject } : {}),
    ...(c.encounter ? { encounter: c.encounter } : {}),
    date: c.date,
    author: c.author,
    title: c.title,
    ...(c.confidentiality ? { confidentiality: c.confidentiality } : {}),
    ...(c.custodian ? { custodian: c.custodian } : {}),
    ...(c.relatesTo ? { relatesTo: c.relatesTo } : {}),
    section: [
      ...(doc.composition.section ?? []).map(keepSection).filter((x): x is CompositionSection => x !== undefined),
      {
        title: 'Udeladt efter samtykke / Withheld under consent',
        code: { coding: [SECTION.withheld] },
        text: narrativeList(
          "Efter patientens samtykke er følgende udeladt (withheld under the patient's consent):",
          withheld.map((c) => CLASS_TEXT[c]),
        ),
      },
    ],
  };
  // Free text that stays (a follow-up activity, the patient information) may still name a withheld drug or
  // diagnosis: every term known from the withheld resources is blanked out of what remains.
  const terms = withheldTerms(doc.entries.filter((e) => removed.has(e.fullUrl)).map((e) => e.resource));
  const entries = doc.entries
    .filter((e) => !removed.has(e.fullUrl))
    .map((e) => ({ fullUrl: e.fullUrl, resource: rebuilt.get(e.fullUrl) ?? e.resource }))
    .map((e) => ({ ...e, resource: redactTerms(e.resource, terms) }))
    .map((e) => {
      if (e.resource.resourceType === 'Composition' && e.resource.id === doc.composition.id) {
        return { ...e, resource: redactTerms(composition, terms) };
      }
      if (e.resource.resourceType === 'Encounter' && withheld.includes('diagnosis')) {
        const encounter = { ...(e.resource as Encounter) };
        delete encounter.diagnosis;
        return { ...e, resource: encounter };
      }
      return e;
    });
  const redactedComposition = entries.find(
    (e) => e.resource.resourceType === 'Composition' && e.resource.id === doc.composition.id,
  )?.resource as Composition;
  return { document: { ...doc, composition: redactedComposition, entries }, withheld };
}

const NOT_TEXT = new Set(['reference', 'fullUrl', 'system', 'url', 'id', 'status', 'resourceType', 'profile']);
const BLANK = '[udeladt]';

function withheldTerms(resources: Resource[]): RegExp | undefined {
  const terms: Array<string | undefined> = [];
  for (const r of resources) {
    const concept: CodeableConcept | undefined =
      r.resourceType === 'Condition'
        ? (r as Condition).code
        : r.resourceType === 'MedicationStatement'
          ? (r as MedicationStatement).medicationCodeableConcept
          : undefined;
    terms.push(concept?.text, ...(concept?.coding ?? []).flatMap((c) => [c.code, c.display]));
  }
  return termPattern(terms);
}

/** One case-insensitive pattern for the terms (3 characters or more), the longest first so it wins. */
function termPattern(terms: ReadonlyArray<string | undefined>): RegExp | undefined {
  const kept = new Set(terms.filter((t): t is string => t !== undefined && t.trim().length >= 3).map((t) => t.trim()));
  if (kept.size === 0) {
    return undefined;
  }
  const escaped = [...kept].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(escaped.join('|'), 'gi');
}

/** Free text with the given terms (a diagnosis's code and name, say) blanked out, as the document views do. */
export function blankTerms(text: string, terms: ReadonlyArray<string | undefined>): string {
  const pattern = termPattern(terms);
  return pattern ? text.replace(pattern, BLANK) : text;
}

function redactTerms<T>(value: T, terms: RegExp | undefined, key = ''): T {
  if (!terms) {
    return value;
  }
  if (typeof value === 'string') {
    return (NOT_TEXT.has(key) ? value : value.replace(terms, BLANK)) as T;
  }
  if (Array.isArray(value)) {
    return value.map((v: unknown) => redactTerms(v, terms, key)) as T;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactTerms(v, terms, k)])) as T;
  }
  return value;
}

function withheldResource(resource: Resource, withheld: readonly WithholdableClass[]): boolean {
  const cls = RESOURCE_CLASS[resource.resourceType];
  return cls !== undefined && withheld.includes(cls);
}
