import type { Extension, Resource } from 'fhir/r4';
import { narrative } from './narrative';
import { CANONICAL_BASE } from './systems';

/**
 * One resource of a clinical document as a recipient outside health care gets it: built anew from the elements
 * the gateway knows for its type, never the sender's resource with parts taken out. Whatever else a sender's
 * FHIR resource holds (an Encounter's reasonCode, a Patient's extension, a note, a contained resource, the
 * sender's own narrative) does not go. Values of the kept elements are copied as data types without their
 * `extension`, `modifierExtension`, element `id`s and primitive extensions (`_x`), which the gateway cannot
 * read. The gateway's own extensions (medication change, responsible party) are rebuilt from their code. The
 * narrative is generated from what is kept. Returns undefined for a resource type it has no whitelist for:
 * such a resource is clinical content of unknown class and does not go.
 *
 * Elements per type follow FHIR R4 (Patient, Organization, Practitioner, PractitionerRole, Encounter, CarePlan,
 * Condition, MedicationStatement, MedicationRequest, DocumentReference, Observation).
 */
const KEPT: Record<string, readonly string[]> = {
  Patient: ['identifier', 'active', 'name', 'telecom', 'gender', 'birthDate', 'address', 'generalPractitioner'],
  Organization: ['identifier', 'active', 'type', 'name', 'telecom', 'address'],
  Practitioner: ['identifier', 'active', 'name', 'telecom'],
  PractitionerRole: ['identifier', 'active', 'practitioner', 'organization', 'code', 'specialty', 'telecom'],
  // No reasonCode, reasonReference, hospitalization or location: they say why and where a patient was treated.
  Encounter: ['identifier', 'status', 'class', 'subject', 'period', 'serviceProvider', 'diagnosis'],
  CarePlan: ['identifier', 'status', 'intent', 'title', 'description', 'subject', 'encounter', 'period', 'activity'],
  Condition: [
    'identifier',
    'clinicalStatus',
    'verificationStatus',
    'category',
    'code',
    'subject',
    'encounter',
    'onsetDateTime',
    'onsetPeriod',
    'recordedDate',
  ],
  MedicationStatement: [
    'identifier',
    'status',
    'medicationCodeableConcept',
    'subject',
    'context',
    'effectiveDateTime',
    'effectivePeriod',
    'dateAsserted',
    'dosage',
  ],
  MedicationRequest: [
    'identifier',
    'status',
    'intent',
    'medicationCodeableConcept',
    'subject',
    'authoredOn',
    'dosageInstruction',
  ],
  DocumentReference: [
    'identifier',
    'status',
    'type',
    'category',
    'subject',
    'date',
    'author',
    'description',
    'content',
  ],
  Observation: [
    'identifier',
    'status',
    'category',
    'code',
    'subject',
    'encounter',
    'effectiveDateTime',
    'effectivePeriod',
    'issued',
    'valueQuantity',
    'valueCodeableConcept',
    'valueString',
    'valueBoolean',
    'valueInteger',
    'component',
    'note',
  ],
};

/** CarePlan.activity: the planned activity in outline, nothing about progress or outcomes. */
const ACTIVITY_DETAIL = ['kind', 'code', 'status', 'description', 'scheduledPeriod', 'scheduledString', 'performer'];

/** The gateway's own extensions, rebuilt from their coded value. */
const OWN_EXTENSIONS = [
  `${CANONICAL_BASE}/StructureDefinition/medication-change`,
  `${CANONICAL_BASE}/StructureDefinition/responsible-party`,
];

export function outsideHealthResource(resource: Resource): Resource | undefined {
  const kept = KEPT[resource.resourceType];
  if (!kept) {
    return undefined;
  }
  const source = resource as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { resourceType: resource.resourceType };
  if (resource.id) {
    out.id = resource.id;
  }
  const profile = resource.meta?.profile?.filter((p) => p.startsWith(CANONICAL_BASE));
  if (profile?.length) {
    out.meta = { profile };
  }
  const own = ownExtensions(source.extension);
  if (own.length) {
    out.extension = own;
  }
  for (const key of kept) {
    if (source[key] === undefined) {
      continue;
    }
    out[key] = key === 'activity' ? activities(source[key]) : dataType(source[key]);
  }
  out.text = narrative(...summary(out));
  return out as unknown as Resource;
}

function activities(value: unknown): unknown {
  return (Array.isArray(value) ? value : []).flatMap((a: unknown) => {
    const detail = (a as { detail?: Record<string, unknown> } | null)?.detail;
    if (!detail) {
      return [];
    }
    const built: Record<string, unknown> = {};
    const own = ownExtensions(detail.extension);
    if (own.length) {
      built.extension = own;
    }
    for (const key of ACTIVITY_DETAIL) {
      if (detail[key] !== undefined) {
        built[key] = dataType(detail[key]);
      }
    }
    return [{ detail: built }];
  });
}

function ownExtensions(value: unknown): Extension[] {
  return (Array.isArray(value) ? (value as Extension[]) : []).flatMap((x) =>
    OWN_EXTENSIONS.includes(x.url) && x.valueCoding?.code
      ? [
          {
            url: x.url,
            valueCoding: {
              ...(x.valueCoding.system ? { system: x.valueCoding.system } : {}),
              code: x.valueCoding.code,
              ...(x.valueCoding.display ? { display: x.valueCoding.display } : {}),
            },
          },
        ]
      : [],
  );
}

/** A data-type value without the parts the gateway cannot read: extensions, element ids, primitive extensions. */
function dataType(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(dataType);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'extension' && k !== 'modifierExtension' && k !== 'id' && !k.startsWith('_'))
        .map(([k, v]) => [k, dataType(v)]),
    );
  }
  return value;
}

/** The narrative of a rebuilt resource: what it now holds, in a line or two. */
function summary(r: Record<string, unknown>): string[] {
  const text = (v: unknown): string | undefined => {
    const c = v as
      | { text?: string; coding?: Array<{ display?: string; code?: string }>; family?: string; given?: string[] }
      | undefined;
    return c?.text ?? c?.coding?.[0]?.display ?? c?.coding?.[0]?.code;
  };
  const name = (v: unknown) => {
    const n = (Array.isArray(v) ? v[0] : v) as { text?: string; family?: string; given?: string[] } | undefined;
    return n?.text ?? [...(n?.given ?? []), n?.family].filter(Boolean).join(' ');
  };
  const id = (v: unknown) => {
    const i = (Array.isArray(v) ? v[0] : undefined) as { value?: string } | undefined;
    return i?.value;
  };
  switch (r.resourceType) {
    case 'Patient':
      return [`Patient ${name(r.name)}`.trim(), id(r.identifier) ? `CPR ${id(r.identifier) ?? ''}` : ''];
    case 'Organization':
      return [typeof r.name === 'string' ? r.name : 'Organisation', id(r.identifier) ?? ''];
    case 'Practitioner':
      return [name(r.name) || 'Practitioner'];
    case 'PractitionerRole':
      return [text(Array.isArray(r.code) ? r.code[0] : undefined) ?? 'Practitioner role'];
    case 'Encounter': {
      const p = r.period as { start?: string; end?: string } | undefined;
      return [`Kontakt (encounter) ${p?.start ?? ''} – ${p?.end ?? ''}`.trim()];
    }
    case 'CarePlan':
      return [
        typeof r.title === 'string' ? r.title : 'Plan',
        typeof r.description === 'string' ? r.description : '',
        ...(Array.isArray(r.activity)
          ? r.activity.map((a: { detail?: { description?: string } }) => a.detail?.description ?? '')
          : []),
      ];
    case 'Condition':
      return [`Diagnose (diagnosis): ${text(r.code) ?? ''}`];
    case 'MedicationStatement':
    case 'MedicationRequest':
      return [`Medicin (medication): ${text(r.medicationCodeableConcept) ?? ''}`];
    case 'DocumentReference':
      return [typeof r.description === 'string' ? r.description : 'Dokument (document)'];
    case 'Observation':
      return [`${text(r.code) ?? 'Observation'}${typeof r.valueString === 'string' ? `: ${r.valueString}` : ''}`];
    default:
      return [];
  }
}
