/**
 * What keeps CPR numbers and clinical text out of the log when an error or a stray value reaches a log call.
 * CPR numbers are ddmmyy-ssss (ten digits, the hyphen optional; CPR-loven, as written by people and systems).
 */

/**
 * A CPR-shaped number: ten digits (or six, a hyphen, four) not inside a longer run of digits, so SOR codes
 * (15-16 digits), GLNs (13) and millisecond times are left as they are, while `CPR0101901234`, `%7C0101901234`
 * and `\n0101901234` (a JSON escape) are masked. UUIDs are matched first and kept whole: a segment such as
 * `ab1234567890` is not a CPR number.
 */
const CPR_SHAPED = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<!\d)\d{6}-?\d{4}(?!\d)/gi;

/** The text with every CPR-shaped number replaced by asterisks. */
export function maskCpr(text: string): string {
  return text.replace(CPR_SHAPED, (match) => (match.length === 36 ? match : '**********'));
}

/** A URL path for the log, percent-decoded, with CPR-shaped numbers masked (`/patients/<10 digits>/disclosures`). */
export function maskPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Malformed escapes: mask the path as it came.
  }
  return maskCpr(decoded);
}

/**
 * What of a database error can be logged: PostgreSQL's classification (SQLSTATE code, severity, the server
 * routine) and the names of the objects involved. Not `detail` ("Key (cpr)=(<the CPR number>) already exists"),
 * `where` (which quotes the parameter), `hint`, `internalQuery`, nor PGlite's `query` and `params` (the whole
 * message Bundle, when inserting one failed).
 */
const SAFE_FIELDS = ['code', 'severity', 'routine', 'schema', 'table', 'column', 'dataType', 'constraint', 'status'];
const MAX_MESSAGE = 500;

/**
 * The pino `err` serializer: an error (or error-like object) as type, name, code, the database fields above,
 * a message and stack whose quoted parts are removed (drivers and parsers quote the offending value:
 * `invalid input syntax for type integer: "<the value>"`, `Unexpected token 'M', "Moderat de"...`), and its
 * cause, the same way. Nothing else of the object is kept.
 */
export function safeError(err: unknown, depth = 0): unknown {
  if (typeof err === 'string') {
    return scrub(err);
  }
  if (err === null || typeof err !== 'object') {
    return err;
  }
  const e = err as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const type = (err as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof type === 'string' && type !== 'Object') {
    out.type = type;
  }
  if (typeof e.name === 'string') {
    out.name = e.name;
  }
  for (const field of SAFE_FIELDS) {
    const value = e[field];
    if (typeof value === 'string' || typeof value === 'number') {
      out[field] = value;
    }
  }
  if (typeof e.message === 'string') {
    out.message = scrub(e.message);
  }
  if (typeof e.stack === 'string') {
    const stack =
      typeof e.message === 'string' && e.message !== '' ? e.stack.split(e.message).join(scrub(e.message)) : e.stack;
    out.stack = scrub(stack, Infinity);
  }
  if (e.cause !== undefined && depth < 3) {
    out.cause = safeError(e.cause, depth + 1);
  }
  return out;
}

function scrub(text: string, max = MAX_MESSAGE): string {
  const quoted = text.replace(/"[^"\n]*"/g, '"…"').replace(/'[^'\n]{4,}'/g, "'…'");
  return maskCpr(quoted.length > max ? `${quoted.slice(0, max - 1)}…` : quoted);
}
