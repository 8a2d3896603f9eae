import type {
  CarePlan,
  Composition,
  CompositionSection,
  Condition,
  DocumentReference,
  Encounter,
  Extension,
  MedicationStatement,
} from 'fhir/r4';
import type { ClinicalDocument } from '../clinical-document';
import type { MappingContext } from '../context';
import type { NativeAttachment, NativeDischargeLetter, NativeMedication, ResponsibleParty } from '../native-types';
import { narrative, narrativeList } from '../narrative';
import {
  PROFILE,
  authorEntries,
  distinct,
  entry,
  organizationEntry,
  patientEntry,
  ref,
  telecomOf,
  type Entry,
} from '../native-parts';
import { CANONICAL_BASE, SYSTEM } from '../systems';
import { SECTION } from './sections';

/**
 * A discharge letter in the gateway's native JSON → the resources of a FHIR discharge-summary document.
 * Everything a GP needs gets its own coded section: diagnoses, course, medication at discharge (what changed,
 * why, who continues it), the follow-up plan with an owner per activity, what the patient was told, and whom
 * to call. Missing parts are left out here and reported by completeness.ts.
 */
export const EXTENSION = {
  medicationChange: `${CANONICAL_BASE}/StructureDefinition/medication-change`,
  responsibleParty: `${CANONICAL_BASE}/StructureDefinition/responsible-party`,
} as const;

const RESPONSIBLE_TEXT: Record<ResponsibleParty, string> = {
  gp: 'egen læge (GP)',
  hospital: 'hospitalet (hospital)',
  psychiatry: 'psykiatrien (psychiatry)',
  municipality: 'kommunen (municipality)',
  patient: 'patienten (patient)',
};
const CHANGE_TEXT = {
  started: 'startet (started)',
  changed: 'ændret (changed)',
  stopped: 'seponeret (stopped)',
  unchanged: 'uændret (unchanged)',
} as const;

export function responsibleExtension(party: ResponsibleParty): Extension {
  return {
    url: EXTENSION.responsibleParty,
    valueCoding: { system: SYSTEM.responsibleParty, code: party, display: RESPONSIBLE_TEXT[party] },
  };
}

/** SKS writes ICD-10 as "DF322"; ICD-10 itself as "F32.2". */
export function normaliseIcd10(code: string): string {
  const bare = code
    .trim()
    .toUpperCase()
    .replace(/^D(?=[A-Z]\d)/, '')
    .replace('.', '');
  return bare.length > 3 ? `${bare.slice(0, 3)}.${bare.slice(3)}` : bare;
}

export function mapNativeDischargeLetter(input: NativeDischargeLetter, ctx: MappingContext): ClinicalDocument {
  const patient = patientEntry(input.patient, ctx);
  const department = organizationEntry(input.department, ctx, telecomOf(input.department));
  const author = authorEntries(input.author, ctx, [department]);
  const encounter = entry<Encounter>({
    resourceType: 'Encounter',
    id: ctx.newId(),
    text: narrative(`Indlæggelse ${input.admission.start} – ${input.admission.end} på ${input.department.name}`),
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
    subject: ref(patient),
    period: { start: input.admission.start, end: input.admission.end },
    serviceProvider: ref(department, input.department.name),
  });

  const diagnosisLines = (input.diagnoses ?? []).map(
    (d) =>
      `${normaliseIcd10(d.code)}${d.display ? ` ${d.display}` : ''}${d.primary ? ' (hoveddiagnose / primary)' : ''}`,
  );
  const conditions = (input.diagnoses ?? []).map((d, i) => {
    const code = normaliseIcd10(d.code);
    return entry<Condition>({
      resourceType: 'Condition',
      id: ctx.newId(),
      text: narrative(diagnosisLines[i]),
      verificationStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
      },
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-category',
              code: 'encounter-diagnosis',
              display: 'Encounter Diagnosis',
            },
          ],
        },
      ],
      code: {
        coding: [{ system: SYSTEM.icd10, code, ...(d.display ? { display: d.display } : {}) }],
        ...(d.display ? { text: d.display } : {}),
      },
      subject: ref(patient),
      encounter: ref(encounter),
    });
  });
  // The primary diagnosis ranks first (Encounter.diagnosis.rank), the others follow in the sender's order.
  const primary = (input.diagnoses ?? []).findIndex((d) => d.primary);
  const ordered =
    primary >= 0 ? [primary, ...conditions.map((_, i) => i).filter((i) => i !== primary)] : conditions.map((_, i) => i);
  if (conditions.length > 0) {
    encounter.resource.diagnosis = ordered.map((index, rank) => ({
      condition: ref(conditions[index] as Entry),
      rank: rank + 1,
    }));
  }

  const medications = (input.medications ?? []).map((m) => medicationEntry(m, patient, ctx));
  const carePlan = input.followUp ? carePlanEntry(input.followUp, patient, encounter, ctx) : undefined;
  const attachments = (input.attachments ?? []).map((a) => attachmentEntry(a, patient, ctx));

  const sections: CompositionSection[] = [];
  if (conditions.length > 0) {
    sections.push({
      title: 'Diagnoser',
      code: { coding: [SECTION.diagnoses] },
      text: narrativeList('Diagnoser ved udskrivelse', diagnosisLines),
      entry: conditions.map((c) => ref(c)),
    });
  }
  if (input.course) {
    sections.push({ title: 'Forløb', code: { coding: [SECTION.course] }, text: narrative(input.course) });
  }
  if (medications.length > 0) {
    sections.push({
      title: 'Medicin ved udskrivelse',
      code: { coding: [SECTION.medications] },
      text: narrativeList(
        'Medicin ved udskrivelse: ændringer og hvem der fortsætter',
        (input.medications ?? []).map(medicationLine),
      ),
      entry: medications.map((m) => ref(m)),
    });
  }
  if (carePlan && input.followUp) {
    sections.push({
      title: 'Opfølgningsplan',
      code: { coding: [SECTION.followUp] },
      text: narrativeList(
        input.followUp.summary ?? 'Opfølgning',
        input.followUp.activities.map(
          (a) => `${a.description} — ansvarlig: ${RESPONSIBLE_TEXT[a.owner]}${a.due ? `, senest ${a.due}` : ''}`,
        ),
      ),
      entry: [ref(carePlan)],
    });
  }
  if (input.patientInformation) {
    sections.push({
      title: 'Information givet til patienten',
      code: { coding: [SECTION.patientInformation] },
      text: narrative(input.patientInformation),
    });
  }
  if (input.contact) {
    const c = input.contact;
    sections.push({
      title: 'Kontakt ved spørgsmål',
      code: { coding: [SECTION.contact] },
      text: narrative(
        c.name,
        c.phone && `Telefon: ${c.phone}`,
        c.email && `E-mail: ${c.email}`,
        c.availability && `Træffes: ${c.availability}`,
      ),
      author: [ref(department, input.department.name)],
    });
  }
  if (input.text) {
    sections.push({ title: 'Udskrivningsbrev', code: { coding: [SECTION.letterText] }, text: narrative(input.text) });
  }
  if (attachments.length > 0) {
    sections.push({
      title: 'Bilag',
      code: { coding: [SECTION.attachments] },
      text: narrativeList(
        'Bilag',
        attachments.map((a) => a.resource.description ?? 'Bilag'),
      ),
      entry: attachments.map((a) => ref(a)),
    });
  }

  const loincCode = input.loincCode ?? '18842-5';
  const title = 'Udskrivningsbrev';
  const composition: Composition = {
    resourceType: 'Composition',
    id: ctx.newId(),
    meta: { profile: [PROFILE.dischargeLetter] },
    text: narrative(
      `${title} for ${patientName(input)} fra ${input.department.name}`,
      `Indlagt ${input.admission.start} – ${input.admission.end}. Skrevet af ${input.author.name}.`,
    ),
    ...(input.documentId
      ? { identifier: { system: `${SYSTEM.documentId}/${input.department.sor}`, value: input.documentId } }
      : {}),
    ...(input.replaces
      ? {
          relatesTo: [
            {
              code: 'replaces' as const,
              targetIdentifier: { system: `${SYSTEM.documentId}/${input.department.sor}`, value: input.replaces },
            },
          ],
        }
      : {}),
    status: 'final',
    type: { coding: [{ system: SYSTEM.loinc, code: loincCode, display: 'Discharge summary' }] },
    subject: ref(patient),
    encounter: ref(encounter),
    date: ctx.now.toISOString(),
    author: [ref(author.role, input.author.name)],
    title,
    custodian: ref(department, input.department.name),
    section: sections,
  };
  const compositionEntry = entry(composition);
  const entries: Entry[] = distinct([
    compositionEntry,
    patient,
    encounter,
    department,
    author.organization,
    author.practitioner,
    author.role,
    ...conditions,
    ...medications,
    ...(carePlan ? [carePlan] : []),
    ...attachments,
  ]);
  return {
    kind: 'discharge-letter',
    composition,
    entries,
    patientCpr: input.patient.cpr,
    recipientSor: input.recipient?.sor,
    authorOrganizationSor: input.author.organization.sor,
    title,
  };
}

function medicationEntry(m: NativeMedication, patient: Entry, ctx: MappingContext): Entry<MedicationStatement> {
  const extension: Extension[] = [
    {
      url: EXTENSION.medicationChange,
      valueCoding: { system: SYSTEM.medicationChange, code: m.change, display: CHANGE_TEXT[m.change] },
    },
  ];
  if (m.continuedBy) {
    extension.push(responsibleExtension(m.continuedBy));
  }
  return entry<MedicationStatement>({
    resourceType: 'MedicationStatement',
    id: ctx.newId(),
    meta: { profile: [PROFILE.medicationStatement] },
    text: narrative(medicationLine(m)),
    extension,
    status: m.change === 'stopped' ? 'stopped' : 'active',
    ...(m.reason ? { statusReason: [{ text: m.reason }] } : {}),
    medicationCodeableConcept: { ...(m.atc ? { coding: [{ system: SYSTEM.atc, code: m.atc }] } : {}), text: m.name },
    subject: ref(patient),
    ...(m.dosage ? { dosage: [{ text: m.dosage }] } : {}),
    ...(m.plan ? { note: [{ text: m.plan }] } : {}),
  });
}

function medicationLine(m: NativeMedication): string {
  return [
    `${m.name}${m.atc ? ` (ATC ${m.atc})` : ''}${m.dosage ? `: ${m.dosage}` : ''}`,
    CHANGE_TEXT[m.change],
    m.reason && `årsag: ${m.reason}`,
    m.continuedBy ? `fortsættes af ${RESPONSIBLE_TEXT[m.continuedBy]}` : 'HVEM FORTSÆTTER ER IKKE ANGIVET',
    m.plan && `plan: ${m.plan}`,
  ]
    .filter(Boolean)
    .join(' — ');
}

function carePlanEntry(
  followUp: NonNullable<NativeDischargeLetter['followUp']>,
  patient: Entry,
  encounter: Entry,
  ctx: MappingContext,
): Entry<CarePlan> {
  return entry<CarePlan>({
    resourceType: 'CarePlan',
    id: ctx.newId(),
    text: narrativeList(
      followUp.summary ?? 'Opfølgningsplan',
      followUp.activities.map(
        (a) => `${a.description} (${RESPONSIBLE_TEXT[a.owner]}${a.due ? `, senest ${a.due}` : ''})`,
      ),
    ),
    status: 'active',
    intent: 'plan',
    title: 'Opfølgningsplan efter udskrivelse',
    ...(followUp.summary ? { description: followUp.summary } : {}),
    subject: ref(patient),
    encounter: ref(encounter),
    activity: followUp.activities.map((a) => ({
      detail: {
        extension: [responsibleExtension(a.owner)],
        status: 'not-started' as const,
        description: a.description,
        ...(a.due ? { scheduledPeriod: { end: a.due } } : {}),
        performer: [{ display: RESPONSIBLE_TEXT[a.owner] }],
      },
    })),
  });
}

export function attachmentEntry(a: NativeAttachment, patient: Entry, ctx: MappingContext): Entry<DocumentReference> {
  const title = a.title ?? (a.contentType === 'application/pdf' ? 'Dokument (PDF)' : 'Dokument');
  return entry<DocumentReference>({
    resourceType: 'DocumentReference',
    id: ctx.newId(),
    text: narrative(`Bilag: ${title} (${a.contentType})`),
    status: 'current',
    subject: ref(patient),
    date: ctx.now.toISOString(),
    description: title,
    content: [{ attachment: { contentType: a.contentType, data: a.data.replace(/\s+/g, ''), title } }],
  });
}

function patientName(input: NativeDischargeLetter): string {
  return [input.patient.name?.given?.join(' '), input.patient.name?.family].filter(Boolean).join(' ') || 'patienten';
}
