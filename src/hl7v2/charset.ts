import iconv from 'iconv-lite';
import { Hl7ParseError } from './parse-error';

/**
 * HL7 v2 character sets: MSH-18 (HL7 table 0211, "alternate character sets") decides how a message's bytes
 * become text, on every path (HTTP and MLLP). Decoding is done by iconv-lite, not by hand-written tables.
 *
 * Only the first repetition of MSH-18 is used: it is the character set of the whole message. Further
 * repetitions name sets switched to with ISO 2022 escape sequences (ESC, 0x1B), which the gateway does not
 * take: ESC is a control character and is refused like any other.
 *
 * A message without MSH-18, or with a value that is not in table 0211, is decoded in the sender's configured
 * default (`charset=` in MLLP_SENDERS, `hl7Charset` of an HTTP client, else HL7_DEFAULT_CHARSET, UTF-8 by
 * default). A value that is in table 0211 but that the gateway cannot decode (the ISO 2022 Japanese sets,
 * CNS 11643) is refused naming MSH-18. Bytes that are not valid in the set, U+FFFD itself and control
 * characters (C0 but TAB, CR, LF; DEL; C1) are refused naming the field that holds them.
 */

/** HL7 table 0211 values → iconv-lite encoding names; `undefined` marks a table value the gateway cannot decode. */
const TABLE_0211: Readonly<Record<string, string | undefined>> = {
  ASCII: 'ascii',
  '8859/1': 'iso-8859-1',
  '8859/2': 'iso-8859-2',
  '8859/3': 'iso-8859-3',
  '8859/4': 'iso-8859-4',
  '8859/5': 'iso-8859-5',
  '8859/6': 'iso-8859-6',
  '8859/7': 'iso-8859-7',
  '8859/8': 'iso-8859-8',
  '8859/9': 'iso-8859-9',
  '8859/15': 'iso-8859-15',
  'GB 18030-2000': 'gb18030',
  // KS X 1001 is sent in its EUC-KR form; iconv-lite's euc-kr is the CP949 superset, a strict superset for decoding.
  'KS X 1001': 'euc-kr',
  'BIG-5': 'big5',
  // "UNICODE" (ISO/IEC 10646, before the UTF codes were added in v2.5) is sent as UTF-8 in practice.
  UNICODE: 'utf8',
  'UNICODE UTF-8': 'utf8',
  'UNICODE UTF-16': 'utf-16',
  'UNICODE UTF-32': 'utf-32',
  'ISO IR14': undefined,
  'ISO IR87': undefined,
  'ISO IR159': undefined,
  'CNS 11643-1992': undefined,
};

/** A character set as the gateway applies it. */
export interface Hl7Charset {
  /** The iconv-lite encoding name ("iso-8859-1", "utf8", "utf-16"...). */
  readonly encoding: string;
  /** How a sender or an error message would call it: the table 0211 value. */
  readonly label: string;
}

/** The table 0211 value a charset setting stands for, else the setting when iconv-lite knows it; undefined if neither. */
export function charsetFromSetting(setting: string): Hl7Charset | undefined {
  const value = setting.trim();
  const fromTable = Object.entries(TABLE_0211).find(
    ([code]) => code.toUpperCase() === value.toUpperCase().replace(/_/g, ' '),
  );
  if (fromTable) {
    return fromTable[1] ? { encoding: fromTable[1], label: fromTable[0] } : undefined;
  }
  return iconv.encodingExists(value) ? { encoding: value.toLowerCase(), label: value } : undefined;
}

/**
 * The character set of a message from its MSH-18 value (first repetition, first component), or the sender's
 * default when MSH-18 is empty or not a table 0211 value. Throws Hl7ParseError (MSH-18) for a table value the
 * gateway cannot decode.
 */
export function resolveCharset(msh18: string, fallback: Hl7Charset): Hl7Charset {
  const value = msh18.trim();
  if (value === '' || value === '""') {
    return fallback;
  }
  const key = Object.keys(TABLE_0211).find((code) => code.toUpperCase() === value.toUpperCase());
  if (key === undefined) {
    return fallback;
  }
  const encoding = TABLE_0211[key];
  if (!encoding) {
    throw new Hl7ParseError(
      `MSH-18: the character set ${key} (ISO 2022 / CNS) cannot be decoded by this gateway; send UNICODE UTF-8`,
      'MSH-18',
      '102',
    );
  }
  return { encoding, label: key };
}

/** The raw MSH-18 of an MSH line read as text (first repetition, first component), or ''. */
export function msh18Of(mshLine: string): string {
  const field = mshLine.charAt(3);
  const component = mshLine.charAt(4);
  const repetition = mshLine.charAt(5);
  const raw = mshLine.split(field)[17] ?? '';
  return (raw.split(repetition)[0] ?? '').split(component)[0] ?? '';
}

/** MSH-3 and MSH-4 (namespace ids) of an MSH line, for choosing the sender's settings before decoding. */
export function senderOf(mshLine: string): { application: string; facility: string[] } {
  const fields = mshLine.split(mshLine.charAt(3));
  const comp = mshLine.charAt(4);
  return {
    application: (fields[2] ?? '').split(comp)[0] ?? '',
    facility: (fields[3] ?? '').split(comp).slice(0, 2).filter(Boolean),
  };
}

/** Control characters never delivered: C0 but TAB/LF/CR, DEL, C1, and U+FFFD (what an invalid byte decodes to). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD]/;

/** The first forbidden character of a text, as "U+0000", or undefined. */
export function forbiddenCharacter(text: string): { index: number; code: string } | undefined {
  const m = FORBIDDEN.exec(text);
  return m
    ? { index: m.index, code: `U+${(m[0] ?? '').charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` }
    : undefined;
}

/**
 * Bytes → text in one character set, refusing bytes that are invalid in it. ASCII is checked here (iconv-lite
 * would pass bytes above 0x7F through). `where` locates a failure in the decoded text (e.g. "PID-5").
 */
export function decodeStrict(
  bytes: Buffer,
  charset: Hl7Charset,
  where: (text: string, index: number) => string,
): string {
  if (charset.encoding === 'ascii') {
    const bad = bytes.findIndex((b) => b > 0x7f);
    if (bad >= 0) {
      const text = bytes.subarray(0, bad).toString('latin1');
      throw invalidBytes(where(text, bad), charset, bytes[bad] ?? 0);
    }
  }
  const text = iconv.decode(bytes, utfWithoutBom(bytes, charset.encoding), { stripBOM: true });
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) {
    throw invalidBytes(where(text, bad), charset);
  }
  return text;
}

function invalidBytes(location: string, charset: Hl7Charset, byte?: number): Hl7ParseError {
  return new Hl7ParseError(
    `${location}: ${byte === undefined ? 'bytes that are' : `byte 0x${byte.toString(16).toUpperCase()} is`} not valid in the character set the message declares (MSH-18 ${charset.label})`,
    location,
    '102',
    'hl7-character-set',
  );
}

/** UTF-16/32 without a byte order mark are big-endian (the Unicode default); with one, iconv-lite reads it. */
function utfWithoutBom(bytes: Buffer, encoding: string): string {
  if (encoding === 'utf-16') {
    const bom = bytes.readUInt16BE(0);
    return bytes.length >= 2 && (bom === 0xfeff || bom === 0xfffe) ? 'utf-16' : 'utf-16be';
  }
  if (encoding === 'utf-32') {
    return bytes.length >= 4 && (bytes.readUInt32BE(0) === 0xfeff || bytes.readUInt32LE(0) === 0xfeff)
      ? 'utf-32'
      : 'utf-32be';
  }
  return encoding;
}

/** Bytes of `\Xhh..\` hex escapes decoded in the message's character set; undefined when they are not valid in it. */
export function decodeHexEscape(hex: string, charset: Hl7Charset): string | undefined {
  const bytes = Buffer.from(hex, 'hex');
  if (charset.encoding === 'ascii' && bytes.some((b) => b > 0x7f)) {
    return undefined;
  }
  const text = iconv.decode(bytes, utfWithoutBom(bytes, charset.encoding), { stripBOM: false });
  return text.includes('\uFFFD') ? undefined : text;
}

/** Text → bytes in a character set (for ACKs, written in the set the sender used). */
export function encodeText(text: string, charset: Hl7Charset): Buffer {
  return iconv.encode(
    text,
    charset.encoding === 'utf-16' ? 'utf-16be' : charset.encoding === 'utf-32' ? 'utf-32be' : charset.encoding,
  );
}

/** The UTF-16/32 form of a message, told by its byte order mark or by the zero bytes around "MSH"/"FHS"/"BHS". */
function wideEncoding(bytes: Buffer): Hl7Charset | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  const letter = (i: number) => [0x4d, 0x46, 0x42].includes(b(i)); // M, F, B
  if (
    (b(0) === 0 && b(1) === 0 && b(2) === 0 && letter(3)) ||
    (b(0) === 0 && b(1) === 0 && b(2) === 0xfe && b(3) === 0xff)
  ) {
    return { encoding: 'utf-32', label: 'UNICODE UTF-32' };
  }
  if (
    (letter(0) && b(1) === 0 && b(2) === 0 && b(3) === 0) ||
    (b(0) === 0xff && b(1) === 0xfe && b(2) === 0 && b(3) === 0)
  ) {
    return { encoding: 'utf-32le', label: 'UNICODE UTF-32' };
  }
  if ((b(0) === 0 && letter(1) && b(2) === 0) || (b(0) === 0xfe && b(1) === 0xff)) {
    return { encoding: 'utf-16', label: 'UNICODE UTF-16' };
  }
  if ((letter(0) && b(1) === 0 && b(3) === 0) || (b(0) === 0xff && b(1) === 0xfe)) {
    return { encoding: 'utf-16le', label: 'UNICODE UTF-16' };
  }
  return undefined;
}

/** Where character `index` of a decoded message is, as an HL7 location ("PID-5", "MSH-18"). */
export function locate(text: string, index: number): string {
  const before = text.slice(0, index);
  const lineStart = Math.max(before.lastIndexOf('\r'), before.lastIndexOf('\n')) + 1;
  const line = text.slice(lineStart, index + 1);
  const name = line.slice(0, 3);
  if (!/^[A-Z][A-Z0-9]{2}$/.test(name) || line.length < 4) {
    return 'message';
  }
  const separator = line.charAt(3);
  const fields = line.split(separator).length - 1;
  return `${name}-${['MSH', 'FHS', 'BHS'].includes(name) ? fields + 1 : fields}`;
}

/** How a message's bytes were read. */
export interface DecodedHl7 {
  text: string;
  /** The character set of the (first) message, which its ACK is written in. */
  charset: Hl7Charset;
}

/**
 * A message or batch as bytes → text. Each message in a batch is decoded in the set its own MSH-18 names
 * (batch header and trailer segments in the set of the message next to them), which is safe for every
 * ASCII-compatible table 0211 set: a CR byte is never part of a multi-byte character in them. UTF-16/32 input
 * is recognised by its byte order mark or zero bytes and decoded whole. `fallback` is the sender's default
 * for messages without a usable MSH-18; it gets the first MSH line read as Latin-1 (MSH-3/MSH-4 choose the
 * sender). Throws Hl7ParseError naming MSH-18 or the field that holds an invalid byte or a control character.
 */
export function decodeHl7Bytes(bytes: Buffer, fallback: (firstMshLine: string) => Hl7Charset): DecodedHl7 {
  const wide = wideEncoding(bytes);
  if (wide) {
    const text = decodeStrict(bytes, wide, locate);
    checkControls(text, wide);
    return { text, charset: wide };
  }
  const view = bytes.toString('latin1');
  const starts = [...view.matchAll(/(^|[\r\n])MSH/g)].map((m) => m.index + (m[1] ?? '').length);
  const firstMsh = starts[0] === undefined ? '' : (view.slice(starts[0]).split(/[\r\n]/, 1)[0] ?? '');
  const defaultCharset = fallback(firstMsh);
  if (starts.length === 0) {
    const text = decodeStrict(bytes, defaultCharset, locate);
    checkControls(text, defaultCharset);
    return { text, charset: defaultCharset };
  }
  const parts: string[] = [];
  let first: Hl7Charset | undefined;
  starts.forEach((start, i) => {
    const from = i === 0 ? 0 : start;
    const to = starts[i + 1] ?? bytes.length;
    const mshLine = view.slice(start).split(/[\r\n]/, 1)[0] ?? '';
    const charset = resolveCharset(msh18Of(mshLine), defaultCharset);
    first ??= charset;
    const decoded = decodeStrict(bytes.subarray(from, to), charset, (text, index) =>
      locate(`${parts.join('')}${text}`, parts.join('').length + index),
    );
    parts.push(decoded);
  });
  const text = parts.join('');
  checkControls(text, first ?? defaultCharset);
  return { text, charset: first ?? defaultCharset };
}

/** Refuses a control character anywhere, naming its field and the character set it was read in. */
function checkControls(text: string, charset: Hl7Charset): void {
  const bad = forbiddenCharacter(text.replace(/^\uFEFF/, ''));
  if (bad) {
    const offset = text.startsWith('\uFEFF') ? 1 : 0;
    const location = locate(text, bad.index + offset);
    throw new Hl7ParseError(
      `${location}: ${bad.code === 'U+FFFD' ? 'the replacement character U+FFFD (a byte lost before it reached the gateway)' : `the control character ${bad.code}`} is not text (read in the character set the message declares, MSH-18 ${charset.label})`,
      location,
      '102',
      'hl7-character-set',
    );
  }
}
