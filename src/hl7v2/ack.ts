import type { Hl7Header } from './parse-error';
import type { Segment } from './parse';

/**
 * HL7 v2.5 acknowledgements (original mode): MSH, MSA (AA accepted, AE error, AR rejected) and, when not
 * AA, an ERR segment with the location, the table 0357 error code and a message for the sender's staff.
 *
 * Whenever the answered message's MSH could be read (also when a later segment could not), the ACK echoes
 * it: MSH-5/6 are the sender's whole MSH-3/4 (every HD component), MSH-9 the trigger, MSH-11 the processing
 * id and mode, MSH-12 the version, MSH-18 the character set, MSA-2 the control id, all written with the
 * message's own delimiters exactly as sent. MSA-3 (80 characters) and the ERR texts are cut at a word.
 */
export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckError {
  text: string;
  /** HL7 location, e.g. "PID-3" or "MSH-2". */
  location?: string | undefined;
  /** Table 0357: 100 segment sequence, 101 required field missing, 102 data type, 200 unsupported message type, 207 application error. */
  hl7ErrorCode?: string | undefined;
}

const DEFAULT_DELIMITERS = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

/** Text cut to at most `max` characters at a word boundary, marked with "..." when cut. */
export function cutAtWord(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  // Never half a surrogate pair: it could not be written in any character set.
  const room = text.slice(0, max - 3).replace(/[\uD800-\uDBFF]$/, '');
  const space = room.lastIndexOf(' ');
  return `${(space >= max / 2 ? room.slice(0, space) : room).replace(/[\s,;:.-]+$/, '')}...`;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14) + '+0000';
}

export function buildAck(
  msg: Hl7Header | undefined,
  code: AckCode,
  now: Date,
  ackControlId: string,
  error?: AckError,
): string {
  const d = msg?.delimiters ?? DEFAULT_DELIMITERS;
  const esc = (v: string) =>
    v
      .replaceAll(d.escape, `${d.escape}E${d.escape}`)
      .replaceAll(d.field, `${d.escape}F${d.escape}`)
      .replaceAll(d.component, `${d.escape}S${d.escape}`)
      .replaceAll(d.repetition, `${d.escape}R${d.escape}`)
      .replaceAll(d.subcomponent, `${d.escape}T${d.escape}`)
      .replace(/[\r\n]+/g, ' ');
  const f = d.field;
  // Raw fields are echoed as sent (same delimiters); only the first repetition, since these never repeat.
  const echo = (n: number) => (msg?.mshField(n) ?? '').split(d.repetition)[0] ?? '';
  const firstComponent = (n: number) => echo(n).split(d.component)[0] ?? '';
  const trigger = echo(9).split(d.component)[1] ?? '';
  const segments = [
    [
      'MSH',
      `${d.component}${d.repetition}${d.escape}${d.subcomponent}`,
      'SEKTORBRO',
      'SEKTORBRO',
      echo(3),
      echo(4),
      timestamp(now),
      '',
      `ACK${d.component}${trigger}${d.component}ACK`,
      esc(ackControlId),
      echo(11) || 'P',
      firstComponent(12) || '2.5',
      '',
      '',
      '',
      '',
      '',
      echo(18),
    ]
      .join(f)
      .replace(new RegExp(`${escapeRegExp(f)}+$`), ''),
    ['MSA', code, firstComponent(10), error ? esc(cutAtWord(error.text, 80)) : ''].join(f),
  ];
  if (error && code !== 'AA') {
    const [segment = '', field = ''] = (error.location ?? '').split('-');
    const location =
      segment && /^[A-Z][A-Z0-9]{2}$/.test(segment)
        ? `${segment}${d.component}1${/^\d+$/.test(field) ? `${d.component}${field}` : ''}`
        : '';
    const errCode = error.hl7ErrorCode ?? '207';
    segments.push(
      [
        'ERR',
        '',
        location,
        `${errCode}${d.component}${esc(cutAtWord(error.text, 199))}${d.component}HL70357`,
        code === 'AR' ? 'F' : 'E',
        '',
        '',
        '',
        esc(cutAtWord(error.text, 250)),
      ].join(f),
    );
  }
  return `${segments.join('\r')}\r`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The answer to a batch: one ACK per message, in order, inside BHS … BTS (and FHS … FTS when the batch came in
 * a file). BHS-5/6 echo the batch's BHS-3/4, BHS-12 names the batch answered (its BHS-11); BTS-1 counts the ACKs.
 */
export function buildBatchAck(
  batch: { header?: Segment | undefined; controlId: string; separator: string },
  acks: readonly string[],
  now: Date,
  ackBatchId: string,
): string {
  const f = batch.separator;
  const header = (name: string) =>
    [
      name,
      batch.header?.raw[1] ?? '^~\\&',
      'SEKTORBRO',
      'SEKTORBRO',
      batch.header?.raw[2] ?? '',
      batch.header?.raw[3] ?? '',
      timestamp(now),
      '',
      '',
      '',
      ackBatchId,
      batch.controlId,
    ].join(f);
  const body = `${header('BHS')}\r${acks.join('')}BTS${f}${acks.length}\r`;
  return batch.header?.name === 'FHS' ? `${header('FHS')}\r${body}FTS${f}1\r` : body;
}
