/**
 * A small, total HL7 v2 (ER7, "pipe") parser: delimiters from MSH-1/MSH-2, escape sequences, repetitions,
 * components and sub-components, CR/LF/CRLF segment ends, a UTF-8 BOM, trailing blanks, unknown Z-segments,
 * missing optional fields. It never throws anything but Hl7ParseError, and runs in linear time (no
 * backtracking regular expressions), so hostile input costs no more than its length.
 *
 * Field numbering follows the standard: MSH-1 is the field separator and MSH-2 the encoding characters, so
 * for MSH the n-th field is at split index n-1; for every other segment at split index n.
 */
export class Hl7ParseError extends Error {
  constructor(
    message: string,
    /** Where, as an HL7 location like "MSH-2" or "segment 3". */
    readonly location: string,
    /** HL7 table 0357 code: 100 segment sequence, 101 required field missing, 102 data type, 200 unsupported message type... */
    readonly hl7Code: string = '102',
  ) {
    super(message);
    this.name = 'Hl7ParseError';
  }
}

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export interface Segment {
  readonly name: string;
  /** Raw fields as split by the field separator (index 0 is the segment name). */
  readonly raw: readonly string[];
}

const MAX_MESSAGE_LENGTH = 50 * 1024 * 1024;

export class Hl7Message {
  constructor(
    readonly segmentList: readonly Segment[],
    readonly delimiters: Delimiters,
  ) {}

  segments(name: string): Segment[] {
    return this.segmentList.filter((s) => s.name === name);
  }

  segment(name: string): Segment | undefined {
    return this.segmentList.find((s) => s.name === name);
  }

  /** The raw (still escaped) text of a field, e.g. ("PID", 3). */
  rawField(segment: Segment | undefined, field: number): string {
    if (!segment) {
      return '';
    }
    if (segment.name === 'MSH') {
      if (field === 1) {
        return this.delimiters.field;
      }
      return segment.raw[field - 1] ?? '';
    }
    return segment.raw[field] ?? '';
  }

  /** Repetitions of a field, each as components, each as sub-components, all unescaped. */
  field(segment: Segment | undefined, field: number): string[][][] {
    const raw = this.rawField(segment, field);
    if (raw === '') {
      return [];
    }
    if (segment?.name === 'MSH' && field <= 2) {
      return [[[raw]]];
    }
    const d = this.delimiters;
    return raw.split(d.repetition).map((rep) => rep.split(d.component).map((comp) => comp.split(d.subcomponent).map((sub) => unescapeHl7(sub, d))));
  }

  /** One value: repetition 0, component and sub-component 1-based (as "PID-5.1.1"), unescaped; '' when absent. */
  get(segment: Segment | undefined, field: number, component = 1, subcomponent = 1, repetition = 0): string {
    return this.field(segment, field)[repetition]?.[component - 1]?.[subcomponent - 1] ?? '';
  }

  /** MSH-9: message code, trigger event, structure. */
  get messageType(): { code: string; trigger: string; structure: string } {
    const msh = this.segment('MSH');
    return { code: this.get(msh, 9, 1), trigger: this.get(msh, 9, 2), structure: this.get(msh, 9, 3) };
  }

  /** MSH-10, the message control id: the idempotency key of the message. */
  get controlId(): string {
    return this.get(this.segment('MSH'), 10);
  }

  get version(): string {
    return this.get(this.segment('MSH'), 12);
  }

  get sendingApplication(): string {
    return this.get(this.segment('MSH'), 3);
  }

  get sendingFacility(): string {
    return this.get(this.segment('MSH'), 4);
  }
}

/** Parses one message. A batch (FHS/BHS) or leading blank lines before MSH are skipped to the first MSH. */
export function parseHl7Message(input: string): Hl7Message {
  if (input.length > MAX_MESSAGE_LENGTH) {
    throw new Hl7ParseError(`the message is larger than ${MAX_MESSAGE_LENGTH} characters`, 'message', '102');
  }
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.replace(/[ \t]+$/, '')).filter((l) => l !== '');
  const start = lines.findIndex((l) => l.startsWith('MSH'));
  if (start < 0) {
    throw new Hl7ParseError('no MSH segment: an HL7 v2 message starts with MSH', 'MSH', '100');
  }
  const msh = lines[start] ?? '';
  if (msh.length < 8) {
    throw new Hl7ParseError('MSH is too short to hold its delimiters (MSH-1 and MSH-2)', 'MSH-2', '102');
  }
  const field = msh.charAt(3);
  let enc = msh.slice(4, msh.indexOf(field, 4) < 0 ? undefined : msh.indexOf(field, 4));
  // Some senders double the escape character in MSH-2 (^~\\&): a known malformation, read as meant.
  if (enc.length === 5 && enc.charAt(2) === enc.charAt(3)) {
    enc = enc.slice(0, 3) + enc.slice(4);
  }
  if (enc.length < 4 || /[A-Za-z0-9\s]/.test(field) || new Set([field, enc.charAt(0), enc.charAt(1), enc.charAt(2), enc.charAt(3)]).size !== 5) {
    throw new Hl7ParseError('MSH-1/MSH-2 must give five distinct delimiter characters (e.g. |^~\\&)', 'MSH-2', '102');
  }
  const delimiters: Delimiters = { field, component: enc.charAt(0), repetition: enc.charAt(1), escape: enc.charAt(2), subcomponent: enc.charAt(3) };
  const segments: Segment[] = [];
  for (const [i, line] of lines.slice(start).entries()) {
    if (i > 0 && (line.startsWith('MSH') || line.startsWith('BTS') || line.startsWith('FTS'))) {
      break;
    }
    const name = line.slice(0, 3);
    if (!/^[A-Z][A-Z0-9]{2}$/.test(name) || (line.length > 3 && line.charAt(3) !== field)) {
      throw new Hl7ParseError(`segment ${i + 1} does not start with a segment name and the field separator: "${line.slice(0, 10)}"`, `segment ${i + 1}`, '100');
    }
    segments.push({ name, raw: line.split(field) });
  }
  return new Hl7Message(segments, delimiters);
}

/**
 * Decodes HL7 escape sequences: \F\ \S\ \T\ \R\ \E\ the delimiters, \Xhh..\ bytes (UTF-8), \.br\ and \.sp\ line
 * breaks; highlighting (\H\ \N\) and other formatting commands are dropped; an unknown or unterminated
 * sequence is kept as written rather than guessed at.
 */
export function unescapeHl7(value: string, d: Delimiters): string {
  const esc = d.escape;
  if (!value.includes(esc)) {
    return value;
  }
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value.charAt(i);
    if (c !== esc) {
      out += c;
      i += 1;
      continue;
    }
    const end = value.indexOf(esc, i + 1);
    if (end < 0) {
      out += value.slice(i);
      break;
    }
    const seq = value.slice(i + 1, end);
    out += decodeSequence(seq, d) ?? `${esc}${seq}${esc}`;
    i = end + 1;
  }
  return out;
}

function decodeSequence(seq: string, d: Delimiters): string | undefined {
  switch (seq) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'H':
    case 'N':
      return '';
    case '.br':
    case '.sp':
      return '\n';
    default:
      break;
  }
  if (seq.startsWith('X') && /^X([0-9A-Fa-f]{2})+$/.test(seq)) {
    return Buffer.from(seq.slice(1), 'hex').toString('utf8');
  }
  if (/^(\.(fi|nf|in[+-]?\d*|ti[+-]?\d*|sk\d*|ce)|C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{4,6}|Z.*)$/.test(seq)) {
    return '';
  }
  return undefined;
}
