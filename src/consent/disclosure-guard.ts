import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Organization } from 'fhir/r4';
import Ajv from 'ajv';
import { ROLES, type Role } from '../auth/clients';
import { SYSTEM } from '../mappers/systems';
import { MESSAGE_KIND_NAMES } from '../messages/message-kinds';
import type { Queryable } from '../store/db';
import { activeConsentsFor } from './consent-store';
import {
  decideDisclosure,
  type Decision,
  type DisclosurePolicy,
  type DisclosureRequest,
  type Sector,
} from './evaluate-consent';

/**
 * Loads the policy file and decides disclosures against the patient's current consents. Used at intake
 * (refuse with 403) and again right before each delivery (a consent withdrawn meanwhile blocks it).
 */
export const POLICY_FILE = join(__dirname, '..', '..', 'policy', 'disclosure-policy.json');

const SECTORS = ['health', 'municipality', 'employer'];
const policySchema = {
  type: 'object',
  required: ['version', 'rules', 'grants'],
  properties: {
    version: { type: 'string' },
    grants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role', 'description', 'deny', 'permits'],
        additionalProperties: false,
        properties: {
          role: { enum: ROLES },
          description: { type: 'string' },
          deny: { type: 'boolean' },
          permits: {
            type: 'array',
            items: {
              type: 'object',
              required: ['recipients', 'purposes', 'dataClasses'],
              additionalProperties: false,
              properties: {
                recipients: { anyOf: [{ enum: ['any', 'self'] }, { type: 'array', items: { enum: SECTORS } }] },
                purposes: { anyOf: [{ const: 'any' }, { type: 'array', items: { type: 'string' } }] },
                dataClasses: { anyOf: [{ const: 'any' }, { type: 'array', items: { type: 'string' } }] },
              },
            },
          },
        },
      },
    },
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
          // A rule names kinds of the table (messages/message-kinds.ts): a misspelt kind would never match.
          messageKinds: { type: 'array', items: { enum: MESSAGE_KIND_NAMES } },
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
  const ungranted = ROLES.filter((role) => parsed.grants.filter((g) => g.role === role).length !== 1);
  if (ungranted.length > 0) {
    throw new Error(`disclosure policy ${file}: grants must name every role once (${ungranted.join(', ')})`);
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
    case 'caremanager':
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
