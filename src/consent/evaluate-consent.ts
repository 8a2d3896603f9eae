import type { Consent } from 'fhir/r4';
import { SYSTEM } from '../mappers/systems';
import { readProvisions } from './provisions';

/**
 * Decides whether one disclosure may happen: the policy's rule for the flow (from sector → to sector,
 * message kind, purpose) gives the default, and the patient's active consents change it as the rule says.
 * Deny beats permit; an expired, withdrawn or not-yet-valid consent counts as none. Pure: the caller
 * loads the consents and the policy.
 */
export type Sector = 'health' | 'municipality' | 'employer';

export interface PolicyRule {
  id: string;
  description: string;
  from?: Sector;
  to?: Sector;
  messageKinds?: string[];
  purposes?: string[];
  default: 'permit' | 'deny';
  basis: string;
  consent: 'ignored' | 'deny-overrides' | 'permit-required';
  /** Data classes this flow may ever carry, whatever a consent says. */
  allowedDataClasses?: string[];
}

export interface DisclosurePolicy {
  version: string;
  rules: PolicyRule[];
  /** Per role of the recording client: what its consents may permit (consent-grants.ts checks it). */
  grants: RoleGrant[];
}

/**
 * What a consent recorded by a client of one role may permit. `recipients`: anyone, the recording organisation
 * only (`self`), or organisations of the listed sectors (and those whole sectors). `purposes` and `dataClasses`:
 * codes of sektorbro-purpose / v3-ActReason and sektorbro-data-class, or `any`. `deny`: whether it may record
 * objections at all.
 */
export interface RoleGrant {
  role: string;
  description: string;
  deny: boolean;
  permits: GrantedPermit[];
}

export interface GrantedPermit {
  recipients: 'any' | 'self' | Sector[];
  purposes: 'any' | string[];
  dataClasses: 'any' | string[];
}

export interface DisclosureRequest {
  messageKind: string;
  from: Sector;
  to: Sector;
  /** The receiving organisation's identifier (SOR, municipality code or CVR). */
  recipient: { system: string; value: string };
  /** Purpose of use: v3 ActReason (TREAT) or a gateway purpose code. */
  purpose: string;
  /** Data classes the message cannot go without. */
  dataClasses: string[];
  /** Data classes included only where a consent covers them (diagnosis, medication, clinical notes...). */
  optionalDataClasses?: string[];
  at: Date;
}

export interface Decision {
  permit: boolean;
  rule: string;
  basis: string;
  /** Consent/<id> that decided, if one did. */
  consent?: string;
  /** Plain-language reason, safe to show the sender: it names what is missing, nothing about the patient. */
  reason: string;
  /** What may be disclosed: the required classes plus the optional ones a consent covers. */
  disclose: string[];
}

interface FlatRule {
  consentId: string;
  type: 'permit' | 'deny';
  actors: Array<{ system: string; value: string }>;
  purposes: string[];
  classes: string[];
  start?: number;
  end?: number;
}

export function findPolicyRule(
  policy: DisclosurePolicy,
  request: Pick<DisclosureRequest, 'from' | 'to' | 'messageKind' | 'purpose'>,
): PolicyRule {
  const rule = policy.rules.find(
    (r) =>
      (r.from === undefined || r.from === request.from) &&
      (r.to === undefined || r.to === request.to) &&
      (r.messageKinds === undefined || r.messageKinds.includes(request.messageKind)) &&
      (r.purposes === undefined || r.purposes.includes(request.purpose)),
  );
  if (!rule) {
    throw new Error('disclosure policy has no catch-all rule');
  }
  return rule;
}

export function decideDisclosure(
  policy: DisclosurePolicy,
  request: DisclosureRequest,
  consents: readonly Consent[],
): Decision {
  const rule = findPolicyRule(policy, request);
  const base = { rule: rule.id, basis: rule.basis };
  const allowed = (classes: string[]) =>
    rule.allowedDataClasses ? classes.filter((c) => rule.allowedDataClasses?.includes(c)) : classes;
  const required = request.dataClasses;
  const optional = request.optionalDataClasses ?? [];
  const forbidden = required.filter((c) => rule.allowedDataClasses && !rule.allowedDataClasses.includes(c));
  if (forbidden.length > 0) {
    return {
      ...base,
      permit: false,
      reason: `the policy never allows ${forbidden.join(', ')} to go to the ${request.to} sector`,
      disclose: [],
    };
  }
  if (rule.consent === 'ignored') {
    return rule.default === 'permit'
      ? {
          ...base,
          permit: true,
          reason: `permitted by policy rule ${rule.id}`,
          disclose: allowed([...required, ...optional]),
        }
      : {
          ...base,
          permit: false,
          reason: `no policy rule permits ${request.messageKind} from the ${request.from} to the ${request.to} sector`,
          disclose: [],
        };
  }

  const rules = consents.flatMap((c) => flattenConsent(c)).filter((r) => applies(r, request));
  const denies = rules.filter(
    (r) => r.type === 'deny' && (r.classes.length === 0 || r.classes.some((c) => required.includes(c))),
  );
  const firstDeny = denies[0];
  if (firstDeny) {
    return {
      ...base,
      permit: false,
      consent: `Consent/${firstDeny.consentId}`,
      reason: `an active consent (Consent/${firstDeny.consentId}) denies this disclosure`,
      disclose: [],
    };
  }
  const deniedOptional = new Set(rules.filter((r) => r.type === 'deny').flatMap((r) => r.classes));
  const permits = rules.filter((r) => r.type === 'permit');
  const covering = permits.find((r) => r.classes.length === 0 || required.every((c) => r.classes.includes(c)));
  const coveredOptional = (extra: FlatRule[]) =>
    optional.filter(
      (c) => !deniedOptional.has(c) && extra.some((r) => r.classes.length === 0 || r.classes.includes(c)),
    );

  if (rule.consent === 'deny-overrides') {
    // Optional classes follow the default when the policy permits: a deny consent can still strip them.
    const disclose = rule.default === 'permit' ? [...required, ...optional.filter((c) => !deniedOptional.has(c))] : [];
    return rule.default === 'permit'
      ? {
          ...base,
          permit: true,
          reason: `permitted by policy rule ${rule.id}; no active consent denies it`,
          disclose: allowed(disclose),
        }
      : {
          ...base,
          permit: false,
          reason: `no policy rule permits ${request.messageKind} to the ${request.to} sector`,
          disclose: [],
        };
  }
  if (!covering) {
    return {
      ...base,
      permit: false,
      reason: `no active consent permits disclosure to ${request.recipient.value} (${request.to} sector) for purpose ${request.purpose} covering ${required.join(', ')}`,
      disclose: [],
    };
  }
  return {
    ...base,
    permit: true,
    consent: `Consent/${covering.consentId}`,
    reason: `permitted by Consent/${covering.consentId}`,
    disclose: allowed([...required, ...coveredOptional(permits)]),
  };
}

/** The consent's rules as provisions.ts reads them; a consent that is not active has none. */
function flattenConsent(consent: Consent): FlatRule[] {
  if (consent.status !== 'active') {
    return [];
  }
  const consentId = consent.id ?? 'unknown';
  return readProvisions(consent).map(({ type, actors, purposes, classes, start, end }) => ({
    consentId,
    type,
    actors,
    purposes,
    classes,
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
  }));
}

function applies(rule: FlatRule, request: DisclosureRequest): boolean {
  const t = request.at.getTime();
  if ((rule.start !== undefined && t < rule.start) || (rule.end !== undefined && t > rule.end)) {
    return false;
  }
  const actorOk =
    rule.actors.length === 0 ||
    rule.actors.some(
      (a) =>
        (a.system === request.recipient.system && a.value === request.recipient.value) ||
        (a.system === SYSTEM.sector && a.value === request.to),
    );
  const purposeOk = rule.purposes.length === 0 || rule.purposes.includes(request.purpose);
  return actorOk && purposeOk;
}
