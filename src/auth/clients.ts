import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { charsetFromSetting } from '../hl7v2/charset';
import { SYSTEM } from '../mappers/systems';
import { parseApiKeyHash, verifyApiKey, type ApiKeyHash } from './api-key-hash';

export const ROLES = ['hospital', 'gp', 'jobcentre', 'employer', 'admin', 'patient', 'caremanager'] as const;
export type Role = (typeof ROLES)[number];

export interface GatewayClient {
  readonly id: string;
  readonly role: Role;
  /** The organisation the client acts for (SOR for health, municipality code or CVR elsewhere). */
  readonly organization: { readonly system: string; readonly value: string };
  /** For role patient: the CPR number the client may see. */
  readonly patientCpr?: string;
  /**
   * HL7 v2 senders: the character set of this client's messages that lack a usable MSH-18 (an HL7 table 0211
   * value such as "8859/1", or a charset name iconv-lite knows); default HL7_DEFAULT_CHARSET.
   */
  readonly hl7Charset?: string;
}

/**
 * A client as configured: its key in plain text (the built-in demo clients, tests) and/or up to two hashed
 * keys (`npm run hash-key`), two so that a key can be rotated: add the new hash, move the client over, remove
 * the old one.
 */
export interface ClientRecord extends GatewayClient {
  apiKey?: string;
  apiKeyHashes?: string[];
}

const clientSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'role', 'organization'],
    anyOf: [{ required: ['apiKey'] }, { required: ['apiKeyHashes'] }],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
      apiKey: { type: 'string', minLength: 16 },
      apiKeyHashes: {
        type: 'array',
        minItems: 1,
        maxItems: 2,
        items: { type: 'string', pattern: '^\\$scrypt\\$' },
      },
      role: { enum: ROLES },
      organization: {
        type: 'object',
        required: ['system', 'value'],
        additionalProperties: false,
        properties: { system: { type: 'string', minLength: 1 }, value: { type: 'string', minLength: 1 } },
      },
      patientCpr: { type: 'string', pattern: '^[0-9]{10}$' },
      hl7Charset: { type: 'string', minLength: 1, maxLength: 40 },
    },
  },
} as const;
const validateClients = new Ajv({ allErrors: true }).compile<ClientRecord[]>(clientSchema);

/**
 * Demo clients for the README walk-through; they exist only outside production and only when no clients
 * file is configured. Their organisations match examples/directory.json.
 */
/** The fictitious example patient of examples/directory.json. */
const DEMO_PATIENT_CPR = '0101901234'; // fictitious example CPR, not a real person

export const DEMO_CLIENTS: ReadonlyArray<ClientRecord & { apiKey: string }> = [
  {
    id: 'demo-hospital',
    apiKey: 'demo-hospital-key-0001',
    role: 'hospital',
    organization: { system: SYSTEM.sor, value: '265161000016004' },
  },
  {
    id: 'demo-gp',
    apiKey: 'demo-gp-key-000000001',
    role: 'gp',
    organization: { system: SYSTEM.sor, value: '481101000016000' },
  },
  {
    id: 'demo-jobcentre',
    apiKey: 'demo-jobcentre-key-01',
    role: 'jobcentre',
    organization: { system: SYSTEM.municipality, value: '0101' },
  },
  {
    id: 'demo-employer',
    apiKey: 'demo-employer-key-001',
    role: 'employer',
    organization: { system: SYSTEM.cvr, value: '12345678' },
  },
  {
    id: 'demo-patient',
    apiKey: 'demo-patient-key-0001',
    role: 'patient',
    organization: { system: SYSTEM.cpr, value: 'citizen-portal' },
    patientCpr: DEMO_PATIENT_CPR,
  },
  {
    // A psychiatric outpatient team whose nurse is the care manager after discharge (issue 18).
    id: 'demo-caremanager',
    apiKey: 'demo-caremanager-key-01',
    role: 'caremanager',
    organization: { system: SYSTEM.sor, value: '265161000016011' },
  },
  {
    id: 'demo-admin',
    apiKey: 'demo-admin-key-000001',
    role: 'admin',
    organization: { system: SYSTEM.sor, value: '000000000000000' },
  },
];

export interface ClientRegistry {
  /** The client holding this API key, or undefined (checked against every stored hash). */
  byApiKey(apiKey: string): Promise<GatewayClient | undefined>;
  /** The client of a key that was verified before, without hashing: cheap, for a source address under suspicion. */
  byVerifiedApiKey(apiKey: string): GatewayClient | undefined;
  byId(id: string): GatewayClient | undefined;
  readonly size: number;
}

function digest(apiKey: string): string {
  // Looking keys up by their SHA-256 keeps the comparison independent of where two keys first differ.
  return createHash('sha256').update(apiKey).digest('hex');
}

/** How many unknown keys are remembered as unknown, so that sending one again costs no scrypt. */
const UNKNOWN_KEYS_REMEMBERED = 10000;

export function createClientRegistry(records: readonly ClientRecord[]): ClientRegistry {
  // Keys known in plain text, and keys verified against a stored hash since start: digest -> client.
  const verified = new Map<string, GatewayClient>();
  const hashed: Array<{ client: GatewayClient; hash: ApiKeyHash }> = [];
  const byId = new Map<string, GatewayClient>();
  for (const { apiKey, apiKeyHashes, ...fields } of records) {
    const client = Object.freeze(fields);
    if (byId.has(client.id)) {
      throw new Error(`Two gateway clients have the id ${client.id}`);
    }
    byId.set(client.id, client);
    if (apiKey !== undefined) {
      if (verified.has(digest(apiKey))) {
        throw new Error(`Two gateway clients share an API key (one of them is ${client.id})`);
      }
      verified.set(digest(apiKey), client);
    }
    for (const text of apiKeyHashes ?? []) {
      const hash = parseApiKeyHash(text);
      if (!hash) {
        throw new Error(`client ${client.id}: apiKeyHashes holds something that is not a hash from npm run hash-key`);
      }
      hashed.push({ client, hash });
    }
    if ((apiKey === undefined ? 0 : 1) + (apiKeyHashes?.length ?? 0) > 2) {
      throw new Error(`client ${client.id}: at most two API keys at once (the current one and its successor)`);
    }
  }
  const unknown = new Set<string>();
  return {
    async byApiKey(apiKey) {
      const d = digest(apiKey);
      const known = verified.get(d);
      if (known || unknown.has(d)) {
        return known;
      }
      // Every hash is checked, whichever matches, so the time taken does not say which client was close.
      const matches = await Promise.all(
        hashed.map(async (h) => ((await verifyApiKey(apiKey, h.hash)) ? h : undefined)),
      );
      const match = matches.find((m) => m !== undefined);
      if (match) {
        verified.set(d, match.client);
        return match.client;
      }
      if (unknown.size >= UNKNOWN_KEYS_REMEMBERED) {
        unknown.clear();
      }
      unknown.add(d);
      return undefined;
    },
    byVerifiedApiKey: (apiKey) => verified.get(digest(apiKey)),
    byId: (id) => byId.get(id),
    size: byId.size,
  };
}

/** Reads GATEWAY_CLIENTS_FILE, or falls back to the demo clients outside production. */
export function loadClients(file: string | undefined, production: boolean): ClientRegistry {
  if (!file) {
    if (production) {
      throw new Error('GATEWAY_CLIENTS_FILE: required when NODE_ENV=production (demo clients are off in production)');
    }
    return createClientRegistry(DEMO_CLIENTS);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`GATEWAY_CLIENTS_FILE: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!validateClients(parsed)) {
    const first = validateClients.errors?.[0];
    throw new Error(`GATEWAY_CLIENTS_FILE: ${file}${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`);
  }
  const badCharset = parsed.find((c) => c.hl7Charset !== undefined && !charsetFromSetting(c.hl7Charset));
  if (badCharset) {
    throw new Error(
      `GATEWAY_CLIENTS_FILE: ${file}: client ${badCharset.id} has hl7Charset ${JSON.stringify(badCharset.hl7Charset)}, which is not a character set the gateway decodes`,
    );
  }
  const plain = parsed.find((c) => c.apiKey !== undefined);
  if (production && plain) {
    throw new Error(
      `GATEWAY_CLIENTS_FILE: client ${plain.id} has its API key in plain text; in production store only its hash (apiKeyHashes, made by npm run hash-key)`,
    );
  }
  try {
    return createClientRegistry(parsed);
  } catch (e) {
    throw new Error(`GATEWAY_CLIENTS_FILE: ${file}: ${(e as Error).message}`);
  }
}
