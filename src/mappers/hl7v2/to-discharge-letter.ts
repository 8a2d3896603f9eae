import { UnmappableInput } from '../unmappable-input';
import type { Hl7Message, Segment } from '../../hl7v2/parse';
import type { NativeAttachment, NativeDiagnosis, NativeDischargeLetter } from '../native-types';
import { edMimeType } from './attachment-type';
import { checkDateTimeFields, dateTimeField, endsBeforeStart } from './datetime';
import { departmentSor } from './department';

/**
 * An HL7 v2 document message (MDM^T02, MDM^T10 replacing an earlier document, ORU^R01 carrying a document
 * in OBX) → the gateway's native discharge letter, so HL7, FHIR and JSON letters share one FHIR pipeline.
 *
 * The CPR number is the PID-3 repetition whose assigning authority (CX-4, namespace or universal id) is
 * "CPR", "DK-CPR" or the CPR OID 1.2.208.176.1.2 (with or without "urn:oid:"), or whose identifier type
 * (CX-5) is "CPR". TX, FT and ST OBX values become the letter text in order; ED values with Base64 data
 * become attachments, typed by HL7 tables 0191/0291 or a MIME type/subtype (attachment-type.ts). The
 * department's SOR code comes from MSH-4, else PV1-3's facility, else the sender's configuration
 * (department.ts); PV1-3 names the department; PV1-44/45 are the stay, at the precision sent (a time is kept
 * with its offset); TXA-9 (else TXA-5, else PV1-7) the author; TXA-12 the document id; DG1-3 the diagnoses.
 * The HL7 null `""` is an absent value. Dates are checked in every field read (MSH-7, EVN-2, PV1-44, PV1-45,
 * TXA-4) and refused naming that field.
 */
const SUPPORTED = ['MDM^T02', 'MDM^T10', 'ORU^R01'];
const CPR_AUTHORITIES = ['CPR', 'DK-CPR', '1.2.208.176.1.2', 'urn:oid:1.2.208.176.1.2'];

/** What the sender's configuration adds to a message (see department.ts). */
export interface Hl7SenderDefaults {
  /** The department's SOR code when neither MSH-4 nor PV1-3 carry one. */
  departmentSor?: string | undefined;
}

/** The date/time fields a document message is read from. */
export const DOCUMENT_DATE_FIELDS = [
  ['MSH', 7],
  ['EVN', 2],
  ['PV1', 44],
  ['PV1', 45],
  ['TXA', 4],
] as const;

export function mapHl7ToDischargeLetter(msg: Hl7Message, sender: Hl7SenderDefaults = {}): NativeDischargeLetter {
  const type = `${msg.messageType.code}^${msg.messageType.trigger}`;
  if (!SUPPORTED.includes(type)) {
    throw new UnmappableInput({
      diagnostics: `MSH-9: ${type} is not a document message (supported: ${SUPPORTED.join(', ')})`,
      expression: 'MSH-9',
      reason: 'unsupported-message-type',
    });
  }
  const pid = msg.segment('PID');
  const pv1 = msg.segment('PV1');
  const txa = msg.segment('TXA');
  const msh = msg.segment('MSH');
  const cpr = findCpr(msg, pid);
  const { text, attachments } = documentContent(msg);
  if (!text && attachments.length === 0) {
    throw new UnmappableInput({
      diagnostics: `OBX-5: the ${type} carries no document text (TX, FT or ST) and no Base64 attachment (ED): there is no letter to deliver`,
      expression: 'OBX-5',
      reason: 'missing-field',
    });
  }
  const { sor } = departmentSor(msg, sender.departmentSor);
  checkDateTimeFields(msg, DOCUMENT_DATE_FIELDS);
  const start = dateTimeField(msg, 'PV1', 44, 'day');
  const end =
    dateTimeField(msg, 'PV1', 45, 'day') ?? dateTimeField(msg, 'TXA', 4, 'day') ?? dateTimeField(msg, 'MSH', 7, 'day');
  if (!start || !end) {
    throw new UnmappableInput({
      diagnostics: 'PV1-44: the admission date/time (and PV1-45 the discharge) are needed for a discharge letter',
      expression: 'PV1-44',
      reason: 'missing-field',
    });
  }
  if (endsBeforeStart(start, end)) {
    throw new UnmappableInput({
      diagnostics: `PV1-45: the discharge (${end}) lies before the admission in PV1-44 (${start})`,
      expression: 'PV1-45',
      reason: 'hl7-date',
    });
  }
  const departmentName =
    msg.get(pv1, 3, 1) ||
    msg.get(pv1, 3, 4) ||
    (/^\d+$/.test(msg.get(msh, 4, 1)) ? '' : msg.get(msh, 4, 1)) ||
    `SOR ${sor}`;
  const author =
    personName(msg, txa, 9) ??
    personName(msg, txa, 5) ??
    personName(msg, pv1, 7) ??
    'Ukendt forfatter (unknown author)';
  const family = msg.get(pid, 5, 1);
  const given = msg.get(pid, 5, 2);
  const documentId = msg.get(txa, 12) || msg.controlId;
  const diagnoses: NativeDiagnosis[] = msg
    .segments('DG1')
    .map((dg) => ({ code: msg.get(dg, 3, 1), display: msg.get(dg, 3, 2) }))
    .filter((d) => /^D?[A-Z][0-9]{2}/i.test(d.code))
    .map((d, i) => ({
      code: d.code.toUpperCase(),
      ...(d.display ? { display: d.display } : {}),
      ...(i === 0 ? { primary: true } : {}),
    }));
  // MDM^T10 replaces an earlier document: TXA-13 is its unique document number.
  const replaces = type === 'MDM^T10' ? msg.get(txa, 13) : '';
  if (type === 'MDM^T10' && !replaces) {
    throw new UnmappableInput({
      diagnostics: 'TXA-13: an MDM^T10 must name the document it replaces (parent document number)',
      expression: 'TXA-13',
      reason: 'missing-field',
    });
  }
  return {
    documentId: documentId.slice(0, 100),
    ...(replaces ? { replaces: replaces.slice(0, 100) } : {}),
    patient: {
      cpr,
      ...(family || given ? { name: { ...(family ? { family } : {}), ...(given ? { given: [given] } : {}) } } : {}),
    },
    author: { name: author, organization: { sor, name: departmentName } },
    department: { sor, name: departmentName },
    admission: { start, end },
    ...(diagnoses.length ? { diagnoses } : {}),
    ...(text ? { text } : {}),
    ...(attachments.length ? { attachments } : {}),
  };
}

export function findCpr(msg: Hl7Message, pid: Segment | undefined): string {
  for (const rep of msg.field(pid, 3)) {
    const id = (rep[0]?.[0] ?? '').replace(/-/g, '');
    const authority = [rep[3]?.[0], rep[3]?.[1]].filter(Boolean) as string[];
    const idType = rep[4]?.[0] ?? '';
    if (
      (authority.some((a) => CPR_AUTHORITIES.includes(a.toUpperCase()) || CPR_AUTHORITIES.includes(a)) ||
        idType.toUpperCase() === 'CPR') &&
      /^[0-9]{10}$/.test(id)
    ) {
      return id;
    }
  }
  throw new UnmappableInput({
    diagnostics:
      'PID-3: no CPR number: give a PID-3 repetition with assigning authority CPR, DK-CPR or 1.2.208.176.1.2 (or identifier type CPR) and 10 digits',
    expression: 'PID-3',
    reason: 'missing-field',
  });
}

function documentContent(msg: Hl7Message): { text: string; attachments: NativeAttachment[] } {
  const lines: string[] = [];
  const attachments: NativeAttachment[] = [];
  for (const obx of msg.segments('OBX')) {
    const valueType = msg.get(obx, 2);
    if (['TX', 'FT', 'ST'].includes(valueType)) {
      // Each repetition of OBX-5 is a line; components of a text value are not meaningful, so rejoin them.
      for (const rep of msg.field(obx, 5)) {
        lines.push(rep.map((c) => c.join(msg.delimiters.subcomponent)).join(msg.delimiters.component));
      }
    } else if (valueType === 'ED') {
      attachments.push(edAttachment(msg, obx, attachments.length));
    }
  }
  return { text: lines.join('\n').trim(), attachments };
}

/** Content types a recipient gets an attachment in (NativeAttachment.contentType). */
const FORWARDED_TYPES = ['application/pdf', 'text/plain', 'image/jpeg', 'image/png', 'image/tiff'];

/** An ED OBX → an attachment; refused naming OBX-5 when its type, encoding or data cannot be forwarded as sent. */
function edAttachment(msg: Hl7Message, obx: Segment, index: number): NativeAttachment {
  const ed = msg.field(obx, 5)[0] ?? [];
  const at = `OBX-5 (OBX ${msg.get(obx, 1) || index + 1})`;
  const refuse = (why: string) =>
    new UnmappableInput({ diagnostics: `${at}: ${why}`, expression: 'OBX-5', reason: 'hl7-attachment' });
  const typeOfData = ed[1]?.[0] ?? '';
  const subtype = ed[2]?.[0] ?? '';
  const mime = edMimeType(typeOfData, subtype);
  if (!mime) {
    throw refuse(
      `${typeOfData}^${subtype} is not an attachment type (HL7 tables 0191/0291, e.g. AP^PDF, or a MIME type/subtype, e.g. application^pdf)`,
    );
  }
  if (!FORWARDED_TYPES.includes(mime)) {
    throw refuse(`${mime} attachments are not forwarded (taken: ${FORWARDED_TYPES.join(', ')})`);
  }
  const encoding = (ed[3]?.[0] ?? '').toLowerCase();
  const raw = (ed[4]?.[0] ?? '').replace(/\s+/g, '');
  let data: string;
  if (encoding === 'base64') {
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(raw)) {
      throw refuse('the data is not valid Base64 (table 0299 encoding Base64)');
    }
    data = raw;
  } else if (encoding === 'hex') {
    if (!/^(?:[0-9A-Fa-f]{2})*$/.test(raw)) {
      throw refuse('the data is not valid hexadecimal (table 0299 encoding Hex)');
    }
    data = Buffer.from(raw, 'hex').toString('base64');
  } else {
    throw refuse(`encoding ${JSON.stringify(ed[3]?.[0] ?? '')} is not taken for attachments (Base64 or Hex)`);
  }
  if (data.length === 0) {
    throw refuse('the attachment holds no data');
  }
  return {
    contentType: mime as NativeAttachment['contentType'],
    data,
    title: msg.get(obx, 3, 2) || msg.get(obx, 3, 1) || 'Bilag',
  };
}

function personName(msg: Hl7Message, segment: Segment | undefined, field: number): string | undefined {
  const family = msg.get(segment, field, 2);
  const given = msg.get(segment, field, 3);
  const name = [given, family].filter(Boolean).join(' ');
  return name || undefined;
}
