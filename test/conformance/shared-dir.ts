import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `../shared` beside the checkout: the public corpus, the bug-report inputs and the MedCom packages. The
 * conformance project exists to test against these, so a missing folder is a failure, never a silent skip.
 */
export const SHARED_DIR = resolve(__dirname, '../../../shared');

if (!existsSync(join(SHARED_DIR, 'corpus'))) {
  throw new Error(
    `conformance tests need ../shared beside the checkout (looked for ${SHARED_DIR}/corpus); ` +
      'they run in CI after npm test, which passes without it',
  );
}

/** Absolute path of a file or folder under ../shared. */
export const sharedPath = (...parts: string[]): string => join(SHARED_DIR, ...parts);

/** A file under ../shared as text (latin1 for HL7 v2, which is bytes before it is text). */
export const readShared = (encoding: BufferEncoding, ...parts: string[]): string =>
  readFileSync(sharedPath(...parts), encoding);

/** The names in a folder under ../shared. */
export const listShared = (...parts: string[]): string[] => readdirSync(sharedPath(...parts));
