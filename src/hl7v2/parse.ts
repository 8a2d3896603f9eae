import { decodeHexEscape, forbiddenCharacter, msh18Of, resolveCharset, type Hl7Charset } from './charset';
import { Hl7ParseError, type Delimiters, type Hl7Header } from './parse-error';

/**
 * A small, total HL7 v2 (ER7, "pipe") parser: delimiters from MSH-1/MSH-2, escape sequences, repetitions,
 * components and sub-components, CR/LF/CRLF segment ends, a UTF-8 BOM, trailing blanks, unknown Z-segments,
 * missing optional fields, the HL7 null `""`, and batches (FHS/BHS … BTS/FTS). It never throws anything but
 * Hl7ParseError, and runs in linear time (no backtracking regular expressions), so hostile input costs no
 * more than its length.
 *
 * Every value is checked once when the message is read: a control character or an invalid `\Xhh\` escape
 * anywhere is refused naming its field, so what the mappers read later is always deliverable text.
 *
 * Field numbering follows the standard: MSH-1 is the field separator and MSH-2 the encoding characters, so
 * for MSH the n-th field is at split index n-1; for every other segment at split index n.
 */
export { Hl7ParseError, type Delimiters } from './parse-error';

export interface Segment {
  readonly name: string;
  /** Raw fields as split by the field separator (index 0 is the segment name). */
  readonly raw: readonly string[];
}

const MAX_MESSAGE_LENGTH = 50 * 1024 * 1024;
const UTF8: Hl7Charset = { encoding: 'utf8', label: 'UNICODE UTF-8' };
/** The HL7 null: a field or component sent as two double quotes means "explicitly no value". */
const HL7_NULL = '""';

export class Hl7Message implements Hl7Header {
  constructor(
    readonly segmentList: readonly Segment[],
    readonly delimiters: Delimiters,
    /** The character set `\Xhh\` escapes are decoded in: MSH-18's, else the sender's default. */
    readonly charset: Hl7Charset = UTF8,
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

  mshField(n: number): string {
    return this.rawField(this.segment('MSH'), n);
  }

  /** The message as ER7 text again (CR segment ends), as it was read: what one message of a batch is stored as. */
  get text(): string {
    return `${this.segmentList.map((s) => s.raw.join(this.delimiters.field)).join('\r')}\r`;
  }

  /**
   * Repetitions of a field, each as components, each as sub-components, all unescaped. The HL7 null `""` (a
   * whole field, component or sub-component) reads as empty: the element is absent.
   */
  field(segment: Segment | undefined, field: number): string[][][] {
    const raw = this.rawField(segment, field);
    if (raw === '' || raw === HL7_NULL) {
      return [];
    }
    if (segment?.name === 'MSH' && field <= 2) {
      return [[[raw]]];
    }
    const d = this.delimiters;
    return raw
      .split(d.repetition)
      .map((rep) =>
        rep
          .split(d.component)
          .map((comp) =>
            comp.split(d.subcomponent).map((sub) => (sub === HL7_NULL ? '' : unescapeHl7(sub, d, this.charset))),
          ),
      );
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

  /** MSH-11.1, the processing id (table 0103): P production, T training, D debugging. */
  get processingId(): string {
    return this.get(this.segment('MSH'), 11);
  }

  get sendingApplication(): string {
    return this.get(this.segment('MSH'), 3);
  }

  get sendingFacility(): string {
    return this.get(this.segment('MSH'), 4);
  }
}

/** Options of the reader: the character set for `\Xhh\` escapes when MSH-18 names none (the sender's default). */
export interface ParseOptions {
  charset?: Hl7Charset | undefined;
}

/**
 * Parses one message. Leading blank lines are skipped; a batch (FHS/BHS, or more than one MSH) is refused,
 * since reading only its first message would drop the others silently: use parseHl7Batch.
 */
export function parseHl7Message(input: string, options: ParseOptions = {}): Hl7Message {
  const batch = parseHl7Batch(input, options);
  if (batch.header || batch.messages.length > 1) {
    throw new Hl7ParseError(
      `a batch of ${batch.messages.length} messages where one message was expected`,
      batch.header?.name ?? 'MSH',
      '100',
      'hl7-batch',
    );
  }
  const [only] = batch.messages;
  if (only instanceof Hl7ParseError) {
    throw only;
  }
  if (!only) {
    throw new Hl7ParseError('no MSH segment: an HL7 v2 message starts with MSH', 'MSH', '100');
  }
  return only;
}

/** A batch (HL7 v2 chapter 2 batch protocol) or a single message, as read. */
export interface Hl7Batch {
  /** FHS or BHS, when the input is a batch file or batch. */
  header?: Segment | undefined;
  /** BHS-11 (else FHS-11): the batch control id, echoed in the batch ACK. */
  controlId: string;
  /** The batch header's field separator ('|' without a header). */
  separator: string;
  /** Each message, or the error that made it unreadable (with its MSH when that was readable). */
  messages: Array<Hl7Message | Hl7ParseError>;
}

/**
 * Reads a batch file (FHS … FTS), a batch (BHS … BTS) or a bare message, message by message. One message that
 * cannot be read does not hide the others: its slot holds the error. The batch is refused whole (throws)
 * when it is not a batch at all (no MSH), when a trailer's count (BTS-1, FTS-1) disagrees with what it holds,
 * or when a segment stands outside any message.
 */
export function parseHl7Batch(input: string, options: ParseOptions = {}): Hl7Batch {
  if (input.length > MAX_MESSAGE_LENGTH) {
    throw new Hl7ParseError(`the message is larger than ${MAX_MESSAGE_LENGTH} characters`, 'message', '102');
  }
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines = text
    .split(/\r\n|\r|\n/)
    .map((l) => l.replace(/[ \t]+$/, ''))
    .filter((l) => l !== '');
  let header: Segment | undefined;
  let controlId = '';
  const groups: string[][] = [];
  const trailerCounts: Array<{ name: string; count: number; holds: number }> = [];
  let inBatch = 0;
  for (const [i, line] of lines.entries()) {
    const name = line.slice(0, 3);
    if (name === 'FHS' || name === 'BHS') {
      const segment = headerSegment(line);
      header ??= segment;
      if (name === 'BHS') {
        inBatch = 0;
        controlId = segment.raw[10] ?? controlId;
      } else {
        controlId ||= segment.raw[10] ?? '';
      }
      continue;
    }
    if (name === 'BTS' || name === 'FTS') {
      // BTS-1 counts the messages of its batch; FTS-1 (batches in a file) is not checked.
      const count = (line.split(line.charAt(3) || '|')[1] ?? '').trim();
      if (name === 'BTS' && count !== '') {
        trailerCounts.push({ name, count: /^\d{1,9}$/.test(count) ? Number(count) : -1, holds: inBatch });
      }
      continue;
    }
    if (name === 'MSH') {
      groups.push([line]);
      inBatch += 1;
      continue;
    }
    const current = groups.at(-1);
    if (!current) {
      if (i === 0) {
        throw new Hl7ParseError('no MSH segment first: an HL7 v2 message starts with MSH', 'MSH', '100');
      }
      throw new Hl7ParseError(
        `segment ${i + 1} (${name}) stands outside any message: a batch holds MSH … messages`,
        `segment ${i + 1}`,
        '100',
        'hl7-batch',
      );
    }
    current.push(line);
  }
  if (groups.length === 0) {
    throw new Hl7ParseError('no MSH segment: an HL7 v2 message starts with MSH', 'MSH', '100');
  }
  for (const t of trailerCounts) {
    if (t.count !== t.holds) {
      throw new Hl7ParseError(
        `${t.name}-1: the batch trailer counts ${t.count < 0 ? 'something that is not a number' : t.count} messages, but the batch holds ${t.holds}: the batch is refused whole`,
        `${t.name}-1`,
        '100',
        'hl7-batch',
      );
    }
  }
  const messages = groups.map((group) => {
    try {
      return parseGroup(group, options);
    } catch (e) {
      if (e instanceof Hl7ParseError) {
        return e;
      }
      throw e;
    }
  });
  return { header, controlId, messages, separator: header ? (lines[0] ?? '').charAt(3) || '|' : '|' };
}

function headerSegment(line: string): Segment {
  const field = line.charAt(3);
  if (line.length < 8 || !/^[!-/:-@[-`{-~]$/.test(field)) {
    throw new Hl7ParseError(
      `${line.slice(0, 3)}-2: the batch header must give its delimiters like MSH does`,
      `${line.slice(0, 3)}-2`,
      '102',
      'hl7-batch',
    );
  }
  // FHS/BHS number their fields like MSH (FHS-1 is the separator): raw[10] is BHS-11, the batch control id.
  return { name: line.slice(0, 3), raw: line.split(field) };
}

/** The delimiters an MSH line declares in MSH-1/MSH-2. */
function delimitersOf(msh: string): Delimiters {
  if (msh.length < 8) {
    throw new Hl7ParseError('MSH is too short to hold its delimiters (MSH-1 and MSH-2)', 'MSH-2', '102');
  }
  const field = msh.charAt(3);
  let enc = msh.slice(4, msh.indexOf(field, 4) < 0 ? undefined : msh.indexOf(field, 4));
  // Some senders double the escape character in MSH-2 (^~\\&): a known malformation, read as meant.
  if (enc.length === 5 && enc.charAt(2) === enc.charAt(3)) {
    enc = enc.slice(0, 3) + enc.slice(4);
  }
  const all = [field, enc.charAt(0), enc.charAt(1), enc.charAt(2), enc.charAt(3)];
  // Delimiters are printable ASCII that is neither a letter, a digit nor a blank (HL7 v2.5 §2.5.4).
  if (enc.length < 4 || all.some((c) => !/^[!-/:-@[-`{-~]$/.test(c)) || new Set(all).size !== 5) {
    throw new Hl7ParseError('MSH-1/MSH-2 must give five distinct delimiter characters (e.g. |^~\\&)', 'MSH-2', '102');
  }
  return {
    field,
    component: enc.charAt(0),
    repetition: enc.charAt(1),
    escape: enc.charAt(2),
    subcomponent: enc.charAt(3),
  };
}

/** One message's lines (MSH first) → Hl7Message; errors after MSH carry the MSH so the ACK can echo it. */
function parseGroup(lines: readonly string[], options: ParseOptions): Hl7Message {
  const mshLine = lines[0] ?? '';
  const delimiters = delimitersOf(mshLine);
  const mshSegment: Segment = { name: 'MSH', raw: mshLine.split(delimiters.field) };
  const headerOnly = new Hl7Message([mshSegment], delimiters);
  try {
    const charset = resolveCharset(msh18Of(mshLine), options.charset ?? UTF8);
    const segments: Segment[] = [];
    for (const [i, line] of lines.entries()) {
      const name = line.slice(0, 3);
      if (!/^[A-Z][A-Z0-9]{2}$/.test(name) || (line.length > 3 && line.charAt(3) !== delimiters.field)) {
        throw new Hl7ParseError(
          `segment ${i + 1} does not start with a segment name and the field separator: "${Array.from(line).slice(0, 10).join('')}"`,
          `segment ${i + 1}`,
          '100',
        );
      }
      segments.push({ name, raw: line.split(delimiters.field) });
    }
    const msg = new Hl7Message(segments, delimiters, charset);
    checkValues(msg);
    return msg;
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      throw e.withHeader(headerOnly);
    }
    throw e;
  }
}

/** Reads every value once: an invalid escape or a control character is refused naming its field. */
function checkValues(msg: Hl7Message): void {
  for (const segment of msg.segmentList) {
    const first = segment.name === 'MSH' ? 3 : 1;
    const count = segment.name === 'MSH' ? segment.raw.length + 1 : segment.raw.length;
    for (let n = first; n < count; n += 1) {
      const location = `${segment.name}-${n}`;
      let values: string[][][];
      try {
        values = msg.field(segment, n);
      } catch (e) {
        if (e instanceof Hl7ParseError) {
          throw new Hl7ParseError(`${location}: ${e.message}`, location, e.hl7Code, e.reason);
        }
        throw e;
      }
      for (const rep of values) {
        for (const comp of rep) {
          for (const value of comp) {
            const bad = forbiddenCharacter(value);
            if (bad) {
              throw new Hl7ParseError(
                `${location}: the control character ${bad.code} (from an escape sequence) is not taken in HL7 text`,
                location,
                '102',
                'hl7-character-set',
              );
            }
          }
        }
      }
    }
  }
}

/**
 * Decodes HL7 escape sequences: \F\ \S\ \T\ \R\ \E\ the delimiters; \Xhh..\ bytes in the message's character
 * set (MSH-18; UTF-8 when none is given); \.br\ and \.sp\ line breaks; highlighting (\H\ \N\) and the other
 * formatting commands are dropped; locally defined \Z..\ escapes and unknown or unterminated sequences are
 * kept as written rather than guessed at. Throws Hl7ParseError for hex bytes that are not valid in the set
 * and for the \C..\ / \M..\ character-set switches, which the gateway does not take (it would garble the text).
 */
export function unescapeHl7(value: string, d: Delimiters, charset: Hl7Charset = UTF8): string {
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
    out += decodeSequence(seq, d, charset) ?? `${esc}${seq}${esc}`;
    i = end + 1;
  }
  return out;
}

function decodeSequence(seq: string, d: Delimiters, charset: Hl7Charset): string | undefined {
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
  if (/^X([0-9A-Fa-f]{2})+$/.test(seq)) {
    const text = decodeHexEscape(seq.slice(1), charset);
    if (text === undefined) {
      throw new Hl7ParseError(
        `the escape \\${seq}\\ holds bytes that are not valid in the character set the message declares (MSH-18 ${charset.label})`,
        'field',
        '102',
        'hl7-character-set',
      );
    }
    return text;
  }
  if (/^(C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{4,6})$/.test(seq)) {
    throw new Hl7ParseError(
      `the character-set escape \\${seq}\\ (ISO 2022 switching) is not taken: send the text in the set MSH-18 declares`,
      'field',
      '102',
      'hl7-character-set',
    );
  }
  if (/^\.(fi|nf|in[+-]?\d*|ti[+-]?\d*|sk\d*|ce)$/.test(seq)) {
    return '';
  }
  return undefined;
}
