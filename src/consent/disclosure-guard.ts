import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Organization } from 'fhir/r4';
import Ajv from 'ajv';
import type { Role } from '../auth/clients';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { activeConsentsFor } from './consent-store';
import { decideDisclosure, type Decision, type DisclosurePolicy, type DisclosureRequest, type Sector } from './evaluate-consent';

/**
 * Loads the policy file and decides disclosures against the patient's current consents. Used at intake
 * (refuse with 403) and again right before each delivery (a consent withdrawn meanwhile blocks it).
 */
export const POLICY_FILE = join(__dirname, '..', '..', 'policy', 'disclosure-policy.json');

const SECTORS = ['health', 'municipality', 'employer'];
const policySchema = {
  type: 'object',
  required: ['version', 'rules'],
  properties: {
    version: { type: 'string' },
    rules: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'description', 'default', 'basis', 'consent'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          description: { type: 'string' },
          from: { enum: SECTORS },
          to: { enum: SECTORS },
          messageKinds: { type: 'array', items: { type: 'string' } },
          purposes: { type: 'array', items: { type: 'string' } },
          default: { enum: ['permit', 'deny'] },
          basis: { type: 'string' },
          consent: { enum: ['ignored', 'deny-overrides', 'permit-required'] },
          allowedDataClasses: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;
const validatePolicy = new Ajv({ allErrors: true, strict: false }).compile<DisclosurePolicy>(policySchema);

export function loadPolicy(file = POLICY_FILE): DisclosurePolicy {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!validatePolicy(parsed)) {
    const first = validatePolicy.errors?.[0];
    throw new Error(`disclosure policy ${file}: ${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`);
  }
  const last = parsed.rules[parsed.rules.length - 1];
  if (!last || last.from || last.to || last.messageKinds || last.purposes || last.default !== 'deny') {
    throw new Error(`disclosure policy ${file}: the last rule must be a catch-all deny`);
  }
  return parsed;
}

export function sectorOfRole(role: Role): Sector {
  switch (role) {
    case 'jobcentre':
      return 'municipality';
    case 'employer':
      return 'employer';
    case 'hospital':
    case 'gp':
    case 'admin':
    case 'patient':
      return 'health';
  }
}

/** An organisation's sector: Organization.type in the sector system if given, else from its identifiers. */
export function sectorOfOrganization(org: Organization): Sector {
  const coded = org.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === SYSTEM.sector)?.code;
  if (coded && SECTORS.includes(coded)) {
    return coded as Sector;
  }
  const systems = (org.identifier ?? []).map((i) => i.system);
  if (systems.includes(SYSTEM.sor)) {
    return 'health';
  }
  if (systems.includes(SYSTEM.municipality)) {
    return 'municipality';
  }
  return systems.includes(SYSTEM.cvr) ? 'employer' : 'health';
}

export interface DisclosureGuard {
  readonly policy: DisclosurePolicy;
  decide(db: Queryable, patientCpr: string, request: Omit<DisclosureRequest, 'at'>, at?: Date): Promise<Decision>;
}

export function createDisclosureGuard(policy: DisclosurePolicy = loadPolicy()): DisclosureGuard {
  return {
    policy,
    async decide(db, patientCpr, request, at = new Date()) {
      const consents = await activeConsentsFor(db, patientCpr);
      return decideDisclosure(policy, { ...request, at }, consents);
    },
  };
}
