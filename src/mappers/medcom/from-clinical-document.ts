import type {
  Composition,
  CompositionSection,
  ContactPoint,
  DocumentReference,
  Organization,
  Practitioner,
  PractitionerRole,
  Resource,
} from 'fhir/r4';
import type { ClinicalDocument } from '../clinical-document';
import { textToPdfBase64 } from './text-pdf';

/**
 * What a CareCommunication carries, read from the gateway's document (the Composition and its entries, from
 * native JSON, FHIR or HL7 v2 input alike): the sections as plain text, PDF and image attachments, the author's
 * name and role, a phone number for the author contact, and when it was written. A discharge letter without a
 * PDF of its own gets one rendered from its text (MedCom has no FHIR discharge letter yet, so the receiver reads
 * the letter from the text and files the PDF).
 */
export interface CareCommunicationContent {
  category: 'discharge' | 'other';
  topic: string;
  text: string;
  attachments: Array<{ contentType: string; data: string; title?: string | undefined }>;
  author: { name: string; role?: string | undefined };
  /** Undefined when neither the author nor their organisation has a phone or email in the document. */
  contact?: ContactPoint | undefined;
  writtenAt: string;
}

/** medcom-core-attachmentMimeTypes */
const MEDCOM_ATTACHMENT_TYPES = ['application/pdf', 'image/gif', 'image/jpeg', 'image/png', 'image/tiff', 'image/bmp'];

export function careCommunicationContent(doc: ClinicalDocument): CareCommunicationContent {
  const byRef = (reference: string | undefined): Resource | undefined =>
    doc.entries.find((e) => e.fullUrl === reference)?.resource;
  const composition: Composition = doc.composition;
  const attachments: CareCommunicationContent['attachments'] = [];
  const extraText: string[] = [];
  for (const e of doc.entries) {
    if (e.resource.resourceType !== 'DocumentReference') {
      continue;
    }
    for (const c of (e.resource as DocumentReference).content) {
      const a = c.attachment;
      if (a.data && a.contentType && MEDCOM_ATTACHMENT_TYPES.includes(a.contentType)) {
        attachments.push({ contentType: a.contentType, data: a.data, title: a.title });
      } else if (a.data && a.contentType?.startsWith('text/plain')) {
        extraText.push(`${a.title ?? 'Bilag'}:\n${Buffer.from(a.data, 'base64').toString('utf8')}`);
      }
    }
  }
  const text = [...(composition.section ?? []).map((s) => sectionText(s)), ...extraText]
    .filter((t) => t.trim() !== '')
    .join('\n\n');
  const category = doc.kind === 'discharge-letter' ? 'discharge' : 'other';
  if (category === 'discharge' && !attachments.some((a) => a.contentType === 'application/pdf')) {
    attachments.push({ contentType: 'application/pdf', data: textToPdfBase64(doc.title, text), title: doc.title });
  }
  const authorRef = byRef(composition.author[0]?.reference);
  const role = authorRef?.resourceType === 'PractitionerRole' ? (authorRef as PractitionerRole) : undefined;
  const practitioner = (
    role ? byRef(role.practitioner?.reference) : authorRef?.resourceType === 'Practitioner' ? authorRef : undefined
  ) as Practitioner | undefined;
  const name = practitioner?.name?.[0];
  const authorName =
    name?.text ?? [...(name?.given ?? []), name?.family].filter(Boolean).join(' ') ?? composition.author[0]?.display;
  const roleText = role?.code?.[0]?.text ?? role?.code?.[0]?.coding?.[0]?.display;
  const organization = (byRef(role?.organization?.reference) ?? byRef(composition.custodian?.reference)) as
    | Organization
    | undefined;
  const contact = [...(role?.telecom ?? []), ...(practitioner?.telecom ?? []), ...(organization?.telecom ?? [])].find(
    (t) => (t.system === 'phone' || t.system === 'email') && t.value,
  );
  return {
    category,
    topic: doc.title,
    text: text || doc.title,
    attachments,
    author: { name: authorName || composition.author[0]?.display || 'Ukendt afsender', role: roleText },
    ...(contact ? { contact: { system: contact.system, value: contact.value } } : {}),
    writtenAt: composition.date,
  };
}

function sectionText(s: CompositionSection): string {
  const own = s.text?.div ? xhtmlToText(s.text.div) : '';
  const nested = (s.section ?? []).map((c) => sectionText(c));
  return [s.title, own, ...nested].filter((t) => t && t.trim() !== '').join('\n');
}

/** XHTML narrative → plain text: paragraphs, line breaks and list items become lines; entities are decoded. */
export function xhtmlToText(div: string): string {
  return div
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|li|tr|h\d|div)>/gi, '\n')
    .replace(/<li[^>]*>/gi, '- ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
}
