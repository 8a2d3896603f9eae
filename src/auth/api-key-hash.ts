import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * API keys as the clients file stores them: a salted scrypt hash (RFC 7914) in the PHC string format,
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64>$<hash, base64>`. The parameters travel with the hash, so
 * they can be raised later without invalidating stored keys. ln=14, r=8 costs ~16 MiB and tens of ms: API keys
 * are long random strings, so this guards a leaked clients file, not a guessable password.
 */
export const SCRYPT_PREFIX = '$scrypt$';
const DEFAULT = { ln: 14, r: 8, p: 1 };
const KEY_LENGTH = 32;
const PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export interface ApiKeyHash {
  readonly options: ScryptOptions & { N: number; r: number; p: number };
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function derive(apiKey: string, salt: Buffer, options: ApiKeyHash['options'], length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes (Node's default of 32 MiB allows ln up to 14 at r=8, not more).
    scrypt(apiKey, salt, length, { ...options, maxmem: 256 * options.N * options.r }, (err, key) => {
      if (err) {
        reject(err);
      } else {
        resolve(key);
      }
    });
  });
}

/** Hashes an API key with a fresh 16-byte salt; what `npm run hash-key` prints. */
export async function hashApiKey(apiKey: string, params = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(apiKey, salt, { N: 2 ** params.ln, r: params.r, p: params.p }, KEY_LENGTH);
  return `${SCRYPT_PREFIX}ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Reads a stored hash; undefined when it is not a scrypt PHC string with sane parameters. */
export function parseApiKeyHash(text: string): ApiKeyHash | undefined {
  const m = PATTERN.exec(text);
  if (!m?.[4] || !m[5]) {
    return undefined;
  }
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4], 'base64');
  const hash = Buffer.from(m[5], 'base64');
  if (ln < 10 || ln > 20 || r < 1 || p < 1 || salt.length < 16 || hash.length < 16) {
    return undefined;
  }
  return { options: { N: 2 ** ln, r, p }, salt, hash };
}

/** Whether the key matches the stored hash; the final comparison takes the same time wherever they differ. */
export async function verifyApiKey(apiKey: string, stored: ApiKeyHash): Promise<boolean> {
  const derived = await derive(apiKey, stored.salt, stored.options, stored.hash.length);
  return timingSafeEqual(derived, stored.hash);
}
