import type { Request } from 'express';
import { errors } from '../errors';

/** A query parameter given at most once, as text; a repeated one (an array) is a 400 naming it. */
export function queryString(value: unknown, name: string): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw errors.invalid({ diagnostics: `${name}: give it once, as text`, expression: name, reason: 'invalid-value' });
  }
  return value;
}

/** The Idempotency-Key header, checked: 1 to 200 visible ASCII characters. */
export function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
    throw errors.invalid({
      diagnostics: 'Idempotency-Key: 1 to 200 visible ASCII characters',
      expression: 'Idempotency-Key',
      reason: 'bad-idempotency-key',
    });
  }
  return key;
}
