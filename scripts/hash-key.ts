/**
 * Makes the hash of an API key for the clients file (`apiKeyHashes`), so the file never holds the key itself.
 *
 *   npm run hash-key                 a new random key (32 bytes, base64url) and its hash
 *   npm run hash-key -- -            the hash of a key read from standard input (keeps it out of shell history)
 *   npm run hash-key -- <key>        the hash of the given key
 *
 * Rotation: add the new key's hash as a second entry of the client's `apiKeyHashes`, restart, move the client to
 * the new key, then remove the old hash. Hashing is salted scrypt (src/auth/api-key-hash.ts).
 */
import { randomBytes } from 'node:crypto';
import { hashApiKey } from '../src/auth/api-key-hash';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  const generated = arg === undefined;
  const key = arg === undefined ? randomBytes(32).toString('base64url') : arg === '-' ? await readStdin() : arg;
  if (key.length < 16) {
    process.stderr.write('An API key needs at least 16 characters.\n');
    process.exit(2);
  }
  const hash = await hashApiKey(key);
  if (generated) {
    process.stdout.write(`API key (give it to the client, store it nowhere else): ${key}\n`);
  }
  process.stdout.write(`"apiKeyHashes": ["${hash}"]\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
