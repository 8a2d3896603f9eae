import { isUniqueViolation } from './db';

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
