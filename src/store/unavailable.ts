import { GatewayError, errors } from '../errors';

/**
 * A lost or refused database connection as the 503 OperationOutcome it is answered with ("try again later",
 * not a 500); any other error is returned as it is. The edges call it: the HTTP error handler and the
 * per-message step of an HL7 v2 batch (MLLP frames and POST /hl7v2), so services need no wrapper of their own.
 */
export function databaseUnavailable(e: unknown): unknown {
  return !(e instanceof GatewayError) && isConnectionError(e)
    ? errors.unavailable({ diagnostics: 'the database is unavailable; nothing was stored, try again later' }, e)
    : e;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '53300',
]);

export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (typeof err?.code === 'string' && CONNECTION_CODES.has(err.code)) {
    return true;
  }
  const message = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Cannot use a pool after calling end|PGlite is closed|database is closed/i.test(
    message,
  );
}
