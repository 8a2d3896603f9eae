import type { Composition, CompositionSection } from 'fhir/r4';
import type { ClinicalDocument } from '../clinical-document';
import type { MappingContext } from '../context';
import { attachmentEntry } from '../discharge-letter/from-native';
import { SECTION } from '../discharge-letter/sections';
import type { NativeClinicalDocument } from '../native-types';
import { narrative } from '../narrative';
import { PROFILE, authorEntries, entry, patientEntry, ref } from '../native-parts';
import { SYSTEM } from '../systems';

/**
 * "Send to own GP": any note or document (text and/or a PDF) → a FHIR document with one Composition. The
 * sender names the patient and the author; the gateway finds the GP.
 */
export function mapNativeClinicalDocument(input: NativeClinicalDocument, ctx: MappingContext): ClinicalDocument {
  const patient = patientEntry(input.patient, ctx);
  const author = authorEntries(input.author, ctx);
  const attachment = input.attachment ? attachmentEntry(input.attachment, patient, ctx) : undefined;
  const sections: CompositionSection[] = [];
  if (input.text) {
    sections.push({ title: input.title, code: { coding: [SECTION.note] }, text: narrative(input.text) });
  }
  if (attachment) {
    sections.push({
      title: 'Bilag',
      code: { coding: [SECTION.attachments] },
      text: narrative(`Bilag: ${attachment.resource.description ?? input.title}`),
      entry: [ref(attachment)],
    });
  }
  const loincCode = input.loincCode ?? '11506-3';
  const composition: Composition = {
    resourceType: 'Composition',
    id: ctx.newId(),
    meta: { profile: [PROFILE.clinicalDocument] },
    text: narrative(
      `${input.title}, skrevet af ${input.author.name}${input.author.organization.name ? `, ${input.author.organization.name}` : ''}`,
    ),
    ...(input.documentId
      ? { identifier: { system: `${SYSTEM.documentId}/${input.author.organization.sor}`, value: input.documentId } }
      : {}),
    status: 'final',
    type: {
      coding: [
        { system: SYSTEM.loinc, code: loincCode, ...(loincCode === '11506-3' ? { display: 'Progress note' } : {}) },
      ],
    },
    subject: ref(patient),
    date: input.date ?? ctx.now.toISOString(),
    author: [ref(author.role, input.author.name)],
    title: input.title,
    custodian: ref(author.organization, input.author.organization.name),
    section: sections,
  };
  return {
    kind: 'clinical-document',
    composition,
    entries: [
      entry(composition),
      patient,
      author.organization,
      author.practitioner,
      author.role,
      ...(attachment ? [attachment] : []),
    ],
    patientCpr: input.patient.cpr,
    authorOrganizationSor: input.author.organization.sor,
    title: input.title,
  };
}
