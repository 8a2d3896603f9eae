import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { SYSTEM } from '../mappers/systems';

export const ROLES = ['hospital', 'gp', 'jobcentre', 'employer', 'admin', 'patient'] as const;
export type Role = (typeof ROLES)[number];

export interface GatewayClient {
  readonly id: string;
  readonly role: Role;
  /** The organisation the client acts for (SOR for health, municipality code or CVR elsewhere). */
  readonly organization: { readonly system: string; readonly value: string };
  /** For role patient: the CPR number the client may see. */
  readonly patientCpr?: string;
}

interface ClientRecord extends GatewayClient {
  apiKey: string;
}

const clientSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'apiKey', 'role', 'organization'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
      apiKey: { type: 'string', minLength: 16 },
      role: { enum: ROLES },
      organization: {
        type: 'object',
        required: ['system', 'value'],
        additionalProperties: false,
        properties: { system: { type: 'string', minLength: 1 }, value: { type: 'string', minLength: 1 } },
      },
      patientCpr: { type: 'string', pattern: '^[0-9]{10}$' },
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

export const DEMO_CLIENTS: readonly ClientRecord[] = [
  { id: 'demo-hospital', apiKey: 'demo-hospital-key-0001', role: 'hospital', organization: { system: SYSTEM.sor, value: '265161000016004' } },
  { id: 'demo-gp', apiKey: 'demo-gp-key-000000001', role: 'gp', organization: { system: SYSTEM.sor, value: '481101000016000' } },
  { id: 'demo-jobcentre', apiKey: 'demo-jobcentre-key-01', role: 'jobcentre', organization: { system: SYSTEM.municipality, value: '0101' } },
  { id: 'demo-employer', apiKey: 'demo-employer-key-001', role: 'employer', organization: { system: SYSTEM.cvr, value: '12345678' } },
  { id: 'demo-patient', apiKey: 'demo-patient-key-0001', role: 'patient', organization: { system: SYSTEM.cpr, value: 'citizen-portal' }, patientCpr: DEMO_PATIENT_CPR },
  { id: 'demo-admin', apiKey: 'demo-admin-key-000001', role: 'admin', organization: { system: SYSTEM.sor, value: '000000000000000' } },
];

export interface ClientRegistry {
  /** The client holding this API key, or undefined. */
  byApiKey(apiKey: string): GatewayClient | undefined;
  byId(id: string): GatewayClient | undefined;
  readonly size: number;
}

function keyHash(apiKey: string): string {
  // Looking keys up by their hash keeps the comparison independent of where two keys first differ.
  return createHash('sha256').update(apiKey).digest('hex');
}

export function createClientRegistry(records: readonly ClientRecord[]): ClientRegistry {
  const byHash = new Map<string, GatewayClient>();
  for (const { apiKey, ...client } of records) {
    const hash = keyHash(apiKey);
    if (byHash.has(hash)) {
      throw new Error(`Two gateway clients share an API key (one of them is ${client.id})`);
    }
    byHash.set(hash, Object.freeze(client));
  }
  const byId = new Map([...byHash.values()].map((c) => [c.id, c]));
  return { byApiKey: (apiKey) => byHash.get(keyHash(apiKey)), byId: (id) => byId.get(id), size: byHash.size };
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
  return createClientRegistry(parsed);
}
