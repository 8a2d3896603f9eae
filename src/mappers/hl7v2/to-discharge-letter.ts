import { errors } from '../../errors';
import type { Hl7Message, Segment } from '../../hl7v2/parse';
import type { NativeAttachment, NativeDiagnosis, NativeDischargeLetter } from '../native-types';

/**
 * An HL7 v2 document message (MDM^T02, MDM^T10 replacing an earlier document, ORU^R01 carrying a document
 * in OBX) → the gateway's native discharge letter, so HL7, FHIR and JSON letters share one FHIR pipeline.
 *
 * The CPR number is the PID-3 repetition whose assigning authority (CX-4, namespace or universal id) is
 * "CPR", "DK-CPR" or the CPR OID 1.2.208.176.1.2 (with or without "urn:oid:"), or whose identifier type
 * (CX-5) is "CPR". TX, FT and ST OBX values become the letter text in order; ED values with Base64 data
 * become attachments. The sending facility (MSH-4, its universal id or namespace when numeric) is the
 * department's SOR code; PV1-3 names the department; PV1-44/45 are the stay; TXA-9 (else TXA-5, else
 * PV1-7) the author; TXA-12 the document id; DG1-3 the diagnoses.
 */
const SUPPORTED = ['MDM^T02', 'MDM^T10', 'ORU^R01'];
const CPR_AUTHORITIES = ['CPR', 'DK-CPR', '1.2.208.176.1.2', 'urn:oid:1.2.208.176.1.2'];

export function mapHl7ToDischargeLetter(msg: Hl7Message): NativeDischargeLetter {
  const type = `${msg.messageType.code}^${msg.messageType.trigger}`;
  if (!SUPPORTED.includes(type)) {
    throw errors.invalid({ diagnostics: `MSH-9: ${type} is not a document message (supported: ${SUPPORTED.join(', ')})`, expression: 'MSH-9', reason: 'unsupported-message-type' });
  }
  const pid = msg.segment('PID');
  const pv1 = msg.segment('PV1');
  const txa = msg.segment('TXA');
  const msh = msg.segment('MSH');
  const cpr = findCpr(msg, pid);
  const { text, attachments } = documentContent(msg);
  if (!text && attachments.length === 0) {
    throw errors.invalid({
      diagnostics: `OBX-5: the ${type} carries no document text (TX, FT or ST) and no Base64 attachment (ED): there is no letter to deliver`,
      expression: 'OBX-5',
      reason: 'missing-field',
    });
  }
  const sor = facilitySor(msg, msh);
  if (!sor) {
    throw errors.invalid({ diagnostics: "MSH-4: the sending facility must carry the department's SOR code (HD-1 or HD-2, digits)", expression: 'MSH-4', reason: 'missing-field' });
  }
  const start = hl7Date(msg.get(pv1, 44));
  const end = hl7Date(msg.get(pv1, 45)) ?? hl7Date(msg.get(txa, 4)) ?? hl7Date(msg.get(msh, 7));
  if (!start || !end) {
    throw errors.invalid({ diagnostics: 'PV1-44: the admission date/time (and PV1-45 the discharge) are needed for a discharge letter', expression: 'PV1-44', reason: 'missing-field' });
  }
  const departmentName = msg.get(pv1, 3, 1) || msg.get(pv1, 3, 4) || msg.get(msh, 4, 1) || `SOR ${sor}`;
  const author = personName(msg, txa, 9) ?? personName(msg, txa, 5) ?? personName(msg, pv1, 7) ?? 'Ukendt forfatter (unknown author)';
  const family = msg.get(pid, 5, 1);
  const given = msg.get(pid, 5, 2);
  const documentId = msg.get(txa, 12) || msg.controlId;
  const diagnoses: NativeDiagnosis[] = msg
    .segments('DG1')
    .map((dg) => ({ code: msg.get(dg, 3, 1), display: msg.get(dg, 3, 2) }))
    .filter((d) => /^D?[A-Z][0-9]{2}/i.test(d.code))
    .map((d, i) => ({ code: d.code.toUpperCase(), ...(d.display ? { display: d.display } : {}), ...(i === 0 ? { primary: true } : {}) }));
  // MDM^T10 replaces an earlier document: TXA-13 is its unique document number.
  const replaces = type === 'MDM^T10' ? msg.get(txa, 13) : '';
  if (type === 'MDM^T10' && !replaces) {
    throw errors.invalid({ diagnostics: 'TXA-13: an MDM^T10 must name the document it replaces (parent document number)', expression: 'TXA-13', reason: 'missing-field' });
  }
  return {
    documentId: documentId.slice(0, 100),
    ...(replaces ? { replaces: replaces.slice(0, 100) } : {}),
    patient: { cpr, ...(family || given ? { name: { ...(family ? { family } : {}), ...(given ? { given: [given] } : {}) } } : {}) },
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
    if ((authority.some((a) => CPR_AUTHORITIES.includes(a.toUpperCase()) || CPR_AUTHORITIES.includes(a)) || idType.toUpperCase() === 'CPR') && /^[0-9]{10}$/.test(id)) {
      return id;
    }
  }
  throw errors.invalid({
    diagnostics: 'PID-3: no CPR number: give a PID-3 repetition with assigning authority CPR, DK-CPR or 1.2.208.176.1.2 (or identifier type CPR) and 10 digits',
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
      const ed = msg.field(obx, 5)[0] ?? [];
      const mime = `${ed[1]?.[0] ?? ''}/${ed[2]?.[0] ?? ''}`.toLowerCase();
      const encoding = (ed[3]?.[0] ?? '').toLowerCase();
      const data = (ed[4]?.[0] ?? '').replace(/\s+/g, '');
      if (encoding === 'base64' && data.length > 0) {
        attachments.push({ contentType: mime === 'application/pdf' ? 'application/pdf' : 'text/plain', data, title: msg.get(obx, 3, 2) || msg.get(obx, 3, 1) || 'Bilag' });
      }
    }
  }
  return { text: lines.join('\n').trim(), attachments };
}

export function facilitySor(msg: Hl7Message, msh: Segment | undefined): string | undefined {
  return [msg.get(msh, 4, 2), msg.get(msh, 4, 1)].map((v) => v.replace(/^urn:oid:1\.2\.208\.176\.1\.1\./, '')).find((v) => /^[0-9]{1,18}$/.test(v));
}

function personName(msg: Hl7Message, segment: Segment | undefined, field: number): string | undefined {
  const family = msg.get(segment, field, 2);
  const given = msg.get(segment, field, 3);
  const name = [given, family].filter(Boolean).join(' ');
  return name || undefined;
}

/** HL7 DTM "YYYYMMDD[HHMM[SS]]..." → ISO date "YYYY-MM-DD", or undefined when it is not a valid date. */
export function hl7Date(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(value);
  if (!m) {
    return undefined;
  }
  const iso = `${m[1] ?? ''}-${m[2] ?? ''}-${m[3] ?? ''}`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}
