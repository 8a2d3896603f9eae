/**
 * Calendar checks for FHIR date, dateTime and instant values (FHIR R4 §2.24.0: "SHALL be valid dates"), and for
 * the gateway's own date inputs that share their shape. Pure: mappers use it too.
 */
const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|([+-])(\d{2}):(\d{2}))?)?)?)?$/;

/**
 * Why a FHIR date, dateTime or instant (`2026`, `2026-02`, `2026-02-28`, `2026-02-28T09:30:00+01:00`) does
 * not name a real point in the calendar, or undefined when it does. The shape itself is medplum's check.
 */
export function calendarProblem(value: string): string | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) {
    return undefined;
  }
  const part = (i: number): number => (m[i] === undefined ? -1 : Number(m[i]));
  const [year, month, day, hour, minute, second, offH, offM] = [1, 2, 3, 4, 5, 6, 8, 9].map(part) as [
    number, number, number, number, number, number, number, number,
  ]; // prettier-ignore
  if (month !== -1 && (month < 1 || month > 12)) {
    return `${value} is not a date: there is no month ${month}`;
  }
  if (day !== -1) {
    const y = year;
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const last = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31;
    if (day < 1 || day > last) {
      return `${value} is not a date in the calendar (${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')} has ${last} days)`;
    }
  }
  if (hour !== -1 && (hour > 23 || minute > 59 || second > 60)) {
    return `${value} is not a time of day`;
  }
  if (offH !== -1 && (offH > 14 || offM > 59)) {
    return `${value} has a time zone offset that does not exist`;
  }
  return undefined;
}
