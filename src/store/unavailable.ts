import { GatewayError, errors } from '../errors';

/**
 * Runs a database call and turns a lost or refused connection into a 503 OperationOutcome, so a client
 * learns "try again later" instead of a 500. Errors that are answers already (GatewayError) pass through.
 */
export async function withDatabase<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof GatewayError || !isConnectionError(e)) {
      throw e;
    }
    throw errors.unavailable('the database is unavailable; nothing was stored, try again later', e);
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300']);

export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (typeof err?.code === 'string' && CONNECTION_CODES.has(err.code)) {
    return true;
  }
  const message = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Cannot use a pool after calling end|PGlite is closed|database is closed/i.test(message);
}
