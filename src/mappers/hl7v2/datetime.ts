import { UnmappableInput } from '../unmappable-input';
import type { Hl7Message } from '../../hl7v2/parse';

/**
 * HL7 v2 dates and times (DTM, and TS component 1) → FHIR `date` / `dateTime`, checked against the calendar
 * and the HL7 precision rules: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ] (HL7 v2.5 §2A.22). Nothing is
 * truncated: 202610280930 becomes 2026-10-28T09:30:00+01:00, not 2026-10-28.
 *
 * A time without an offset is the sender's local time (HL7 v2.5 §2A.22): the offset of MSH-7 when MSH-7 has
 * one, else Danish time (Europe/Copenhagen, with summer time) — FHIR requires a time zone on every time.
 * Anything else (30 February, hour 24, a 5-digit date, an offset of +2500) is refused naming the HL7 field,
 * e.g. "PV1-44: 20260230 is not a date in the calendar".
 */
const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;

export type Precision = 'year' | 'month' | 'day' | 'time';

export interface Hl7DateTime {
  /** FHIR date (YYYY, YYYY-MM, YYYY-MM-DD) or dateTime with seconds and offset. */
  fhir: string;
  precision: Precision;
}

const DANISH_TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Copenhagen', timeZoneName: 'longOffset' });

/** Europe/Copenhagen's UTC offset ("+01:00" / "+02:00") at a local wall-clock time. */
export function danishOffset(year: number, month: number, day: number, hour: number, minute: number): string {
  // The instant is found from the wall time at +01:00 (standard time); during the summer-time hour it is +02:00.
  const probe = Date.UTC(year, month - 1, day, hour - 1, minute);
  const name = DANISH_TIME.formatToParts(new Date(probe)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT+01:00';
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name);
  return m ? `${m[1] ?? '+01'}:${m[2] ?? '00'}` : '+01:00';
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Reads one DTM value; `field` names it in errors ("PV1-44"). `defaultOffset` ("+01:00") applies to a time
 * without its own offset; without it, Danish time. Throws UnmappableInput naming the field for anything that is not a
 * real date/time at a precision HL7 allows.
 */
export function readHl7DateTime(value: string, field: string, defaultOffset?: string): Hl7DateTime {
  const m = DTM.exec(value.trim());
  const refuse = (why: string) =>
    new UnmappableInput({
      diagnostics: `${field}: ${JSON.stringify(value)} ${why}`,
      expression: field,
      reason: 'hl7-date',
    });
  if (!m) {
    throw refuse('is not an HL7 date/time: YYYY[MM[DD[HH[MM[SS[.SSSS]]]]]][+/-ZZZZ], digits only, each part complete');
  }
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const year = Number(y);
  if (year < 1) {
    throw refuse('is not a date in the calendar (year 0000)');
  }
  if (mo === undefined) {
    return { fhir: `${y}`, precision: 'year' };
  }
  const month = Number(mo);
  if (month < 1 || month > 12) {
    throw refuse(`is not a date in the calendar (month ${mo})`);
  }
  if (d === undefined) {
    return { fhir: `${y}-${mo}`, precision: 'month' };
  }
  const day = Number(d);
  if (day < 1 || day > daysIn(year, month)) {
    throw refuse(`is not a date in the calendar (${y}-${mo} has no day ${d})`);
  }
  if (h === undefined) {
    return { fhir: `${y}-${mo}-${d}`, precision: 'day' };
  }
  const hour = Number(h);
  const minute = Number(mi ?? '0');
  const second = Number(s ?? '0');
  if (hour > 23 || minute > 59 || second > 59) {
    throw refuse(`is not a time of day (${h}:${mi ?? '00'}:${s ?? '00'})`);
  }
  let zone: string;
  if (offset) {
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(3, 5));
    if (oh > 14 || om > 59) {
      throw refuse(`has no such time zone offset (${offset})`);
    }
    zone = `${offset.slice(0, 3)}:${offset.slice(3, 5)}`;
  } else {
    zone = defaultOffset ?? danishOffset(year, month, day, hour, minute);
  }
  const fraction = frac ? `.${frac}` : '';
  return { fhir: `${y}-${mo}-${d}T${h}:${mi ?? '00'}:${s ?? '00'}${fraction}${zone}`, precision: 'time' };
}

/** The offset of MSH-7 ("+01:00"), the sender's time zone for its other times; undefined when it gives none. */
export function messageOffset(msg: Hl7Message): string | undefined {
  const m = /([+-])(\d{2})(\d{2})$/.exec(msg.get(msg.segment('MSH'), 7).trim());
  return m ? `${m[1] ?? '+'}${m[2] ?? '00'}:${m[3] ?? '00'}` : undefined;
}

/**
 * A date/time field of a message (component 1, as TS/DTM), checked; undefined when the field is empty or the
 * HL7 null. `minimum` refuses a value less precise than needed (an admission needs at least its day).
 */
export function dateTimeField(
  msg: Hl7Message,
  segmentName: string,
  field: number,
  minimum: Precision = 'year',
): string | undefined {
  const value = msg.get(msg.segment(segmentName), field);
  if (value === '') {
    return undefined;
  }
  const location = `${segmentName}-${field}`;
  const read = readHl7DateTime(value, location, messageOffset(msg));
  const order: Precision[] = ['year', 'month', 'day', 'time'];
  if (order.indexOf(read.precision) < order.indexOf(minimum)) {
    throw new UnmappableInput({
      diagnostics: `${location}: ${JSON.stringify(value)} is too imprecise here: at least the ${minimum === 'time' ? 'time' : minimum} is needed (YYYYMMDD${minimum === 'time' ? 'HHMM' : ''})`,
      expression: location,
      reason: 'hl7-date',
    });
  }
  return read.fhir;
}

/** Every date/time field the gateway reads, checked up front so a bad one is named even when another is used. */
export function checkDateTimeFields(msg: Hl7Message, fields: ReadonlyArray<readonly [string, number]>): void {
  for (const [segment, field] of fields) {
    dateTimeField(msg, segment, field);
  }
}

/** Whether FHIR date/dateTime `end` lies before `start` (compared at the precision both have). */
export function endsBeforeStart(start: string, end: string): boolean {
  if (start.length > 10 && end.length > 10) {
    return Date.parse(end) < Date.parse(start);
  }
  return end.slice(0, 10) < start.slice(0, 10);
}
