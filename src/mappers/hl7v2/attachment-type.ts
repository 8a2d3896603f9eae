/**
 * The MIME type of an HL7 v2 ED value (OBX-5 of value type ED: source ^ type of data ^ data subtype ^
 * encoding ^ data). Senders type it two ways, both taken:
 *
 * - HL7 table 0191 (type of referenced data: AP, IM, TEXT, TX, SD, SI, NS, AU, FT...) with a table 0291
 *   subtype (PDF, JPEG, TIFF, RTF, HTML, XML, octet-stream...): `^AP^PDF^Base64^…` is application/pdf;
 * - a MIME type and subtype: `^application^pdf^Base64^…`, `^image^jpeg^…`.
 *
 * Returns the MIME type ("application/pdf"), or undefined when the pair names none (the caller refuses it
 * naming OBX-5 rather than guess `text/plain`).
 */
const SUBTYPE_0291: Readonly<Record<string, string>> = {
  PDF: 'application/pdf',
  JPEG: 'image/jpeg',
  JPG: 'image/jpeg',
  PNG: 'image/png',
  GIF: 'image/gif',
  TIFF: 'image/tiff',
  TIF: 'image/tiff',
  FAX: 'image/tiff',
  PICT: 'image/pict',
  RTF: 'application/rtf',
  HTML: 'text/html',
  XML: 'application/xml',
  SGML: 'text/sgml',
  POSTSCRIPT: 'application/postscript',
  'OCTET-STREAM': 'application/octet-stream',
  DICOM: 'application/dicom',
  'X-HL7-CDA-LEVEL-ONE': 'application/x-hl7-cda-level-one+xml',
  BASIC: 'audio/basic',
  PLAIN: 'text/plain',
};

/** Table 0191 types of data, and what a missing or generic subtype means for each. */
const TYPE_0191: Readonly<Record<string, string | undefined>> = {
  AP: undefined,
  IM: undefined,
  SD: undefined,
  SI: undefined,
  NS: undefined,
  AU: undefined,
  TEXT: 'text/plain',
  TX: 'text/plain',
  FT: 'text/plain',
};

const MIME_TYPES = ['application', 'image', 'text', 'audio', 'video', 'multipart', 'model', 'message'];
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function edMimeType(typeOfData: string, subtype: string): string | undefined {
  const type = typeOfData.trim();
  const sub = subtype.trim();
  // "TEXT" is both a table 0191 code and a MIME type: a MIME pair when it has a subtype that is not a 0291 code.
  if (
    MIME_TYPES.includes(type.toLowerCase()) &&
    sub !== '' &&
    !(type.toUpperCase() === 'TEXT' && sub.toUpperCase() in SUBTYPE_0291)
  ) {
    return TOKEN.test(sub) ? `${type.toLowerCase()}/${sub.toLowerCase()}` : undefined;
  }
  const upperType = type.toUpperCase();
  if (!(upperType in TYPE_0191)) {
    return undefined;
  }
  if (sub === '') {
    return TYPE_0191[upperType];
  }
  return SUBTYPE_0291[sub.toUpperCase()];
}
