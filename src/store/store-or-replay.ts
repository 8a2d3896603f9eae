import { createHash } from 'node:crypto';
import { errors } from '../errors';
import { isUniqueViolation } from './db';

/**
 * Idempotency-Key handling, the same for every intake (documents, status-report requests and answers, sick-leave
 * certificates, symptom reports): a request is identified by its client and key; what it asked for by a hash of
 * its body. A repeat with the same body gets the earlier answer (replayed); a repeat with another body is a 409
 * `idempotency-key-reused`; two repeats racing to store are settled by the unique index (`storeOrReplay`).
 */

/**
 * SHA-256 (hex) of what a request asked for: its scope (kind, format, parent) and its body as JSON, one per line.
 * Stored with the request (`request_hash`): the layout must stay as it is, or a repeat after an upgrade is a 409.
 */
export function requestHash(scope: readonly string[], body: unknown): string {
  return createHash('sha256')
    .update([...scope, JSON.stringify(body)].join('\n'))
    .digest('hex');
}

/** How one intake finds what it stored under a key, and what it answers from it. */
export interface EarlierRequests<E, R> {
  find(key: string): Promise<E | undefined>;
  hashOf(earlier: E): string;
  /** Names the earlier request in the 409 ("message <id>"). */
  name(earlier: E): string;
  answer(earlier: E): R | Promise<R>;
  /** Called before the 409 is thrown (e.g. to count it). */
  onConflict?(): void;
}

/**
 * The answer to an earlier request with this key, if there was one and it asked for the same (`hash`); undefined
 * when the key is new or absent. Throws 409 `idempotency-key-reused` when the key was used with another body.
 */
export async function replayEarlier<E, R>(
  key: string | undefined,
  hash: string,
  earlier: EarlierRequests<E, R>,
): Promise<R | undefined> {
  if (!key) {
    return undefined;
  }
  const found = await earlier.find(key);
  if (found === undefined) {
    return undefined;
  }
  if (earlier.hashOf(found) !== hash) {
    earlier.onConflict?.();
    throw errors.conflict({
      diagnostics: `Idempotency-Key "${key}" was already used with a different body (${earlier.name(found)})`,
      reason: 'idempotency-key-reused',
    });
  }
  return earlier.answer(found);
}

/**
 * Stores what a request with an Idempotency-Key asked for. Two requests with one key can both find no earlier
 * answer and race to store it; the unique index lets one win, and the other answers with the winner's result
 * (`replay`) instead of an error.
 */
export async function storeOrReplay<T, R>(
  hasKey: boolean,
  store: () => Promise<T>,
  replay: () => Promise<R | undefined>,
): Promise<{ stored: T } | { replayed: R }> {
  try {
    return { stored: await store() };
  } catch (e) {
    const earlier = hasKey && isUniqueViolation(e) ? await replay() : undefined;
    if (earlier === undefined) {
      throw e;
    }
    return { replayed: earlier };
  }
}
