import type { Consent } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { errors, type IssueInput } from '../errors';
import { SYSTEM } from '../mappers/systems';
import { beyondGrant, namesSelf } from './consent-grants';
import type { DisclosurePolicy, Sector } from './evaluate-consent';
import { readProvisions, type ProvisionRule } from './provisions';

/**
 * What makes a Consent acceptable to the gateway, beyond base FHIR R4, who may record which consent, and who may
 * see and change one.
 *
 * - The patient is identified by CPR (Consent.patient.identifier): R4's invariants meant to require a patient
 *   never fire, so the gateway requires it itself. ppc-1: policy or policyRule.
 * - Every provision, nested ones too, has an explicit type; every permit names (itself or through its parent)
 *   the purpose and the recipient (actor); a permit carries no element the evaluator would not honour (it would
 *   then read the permit more broadly than written). The gateway does not guess what a consent allows.
 * - Who may record what is decided on what the consent permits (consent-grants.ts against the policy's grants):
 *   admin and patient anything (a patient about themselves only); hospital and gp objections and treatment
 *   permissions to health-care providers; a jobcentre only the citizen's permission for itself; employers
 *   nothing. A permission naming the recording organisation itself carries the citizen's signed consent as
 *   evidence (Consent.sourceAttachment or Consent.sourceReference).
 * - Only the patient, an admin, or the organisation that owns a consent (its recorder, until the patient or an
 *   admin changes it) may change or withdraw it; an organisation merely named in it sees it but may not.
 */
export function consentPatientCpr(consent: Consent): string | undefined {
  const id = consent.patient?.identifier;
  return id?.system === SYSTEM.cpr && id.value && /^[0-9]{10}$/.test(id.value) ? id.value : undefined;
}

export function assertConsentShape(body: unknown): Consent {
  const consent = body as Partial<Consent> | null;
  const problems: IssueInput[] = [];
  if (!consent || typeof consent !== 'object' || consent.resourceType !== 'Consent') {
    throw errors.invalid({ diagnostics: 'resourceType must be "Consent"', expression: 'resourceType' });
  }
  if (!consentPatientCpr(consent as Consent)) {
    problems.push({
      diagnostics: `Consent.patient.identifier: the patient's CPR number (system ${SYSTEM.cpr}, 10 digits) is required`,
      expression: 'Consent.patient.identifier',
      reason: 'missing-field',
    });
  }
  if (!consent.policy?.length && !consent.policyRule) {
    problems.push({
      diagnostics: 'Consent.policy or Consent.policyRule is required (invariant ppc-1)',
      expression: 'Consent.policyRule',
      reason: 'missing-field',
    });
  }
  if (!consent.provision) {
    problems.push({
      diagnostics: 'Consent.provision: required, with its type (permit or deny)',
      expression: 'Consent.provision',
      reason: 'provision-without-type',
    });
  }
  const rules = readProvisions(consent);
  for (const rule of rules) {
    // A provision a permit is nested in is checked once for each such permit: name each problem once.
    problems.push(
      ...provisionProblems(rule, rules).filter(
        (p) => !problems.some((q) => q.expression === p.expression && q.diagnostics === p.diagnostics),
      ),
    );
  }
  if (problems.length > 0) {
    throw errors.invalid(...problems);
  }
  return consent as Consent;
}

/** Elements of a permit the evaluator does not read: honouring the permit without them would widen it. */
const UNREAD_PERMIT_ELEMENTS = ['data', 'dataPeriod', 'code', 'securityLabel'] as const;
const CONSENT_ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';

function provisionProblems(rule: ProvisionRule, all: readonly ProvisionRule[]): IssueInput[] {
  const p = rule.provision;
  if (!rule.typed) {
    return [
      {
        diagnostics: `${rule.path}.type: required (permit or deny), on nested provisions too: the gateway does not guess what a consent allows`,
        expression: `${rule.path}.type`,
        reason: 'provision-without-type',
      },
    ];
  }
  const problems: IssueInput[] = [];
  if ((p.actor ?? []).some((a) => !a.reference?.identifier?.system || !a.reference.identifier.value)) {
    problems.push({
      diagnostics: `${rule.path}.actor.reference: name the organisation by identifier (SOR ${SYSTEM.sor}, municipality code or CVR) or a whole sector (${SYSTEM.sector})`,
      expression: `${rule.path}.actor`,
      reason: 'invalid-value',
    });
  }
  for (const end of ['start', 'end'] as const) {
    const value = p.period?.[end];
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      // An unreadable end would make a permission open-ended.
      problems.push({
        diagnostics: `${rule.path}.period.${end}: not a date the gateway can read (YYYY-MM-DD or a dateTime)`,
        expression: `${rule.path}.period.${end}`,
        reason: 'invalid-value',
      });
    }
  }
  if (rule.type !== 'permit') {
    return problems;
  }
  if (rule.purposes.length === 0 || rule.purposes.some((c) => c === '')) {
    problems.push({
      diagnostics: `${rule.path}.purpose: a permission names its purpose (sektorbro-purpose or v3-ActReason TREAT), itself or in the provision it is nested in`,
      expression: `${rule.path}.purpose`,
      reason: 'permit-without-purpose',
    });
  }
  if (rule.actors.length === 0) {
    problems.push({
      diagnostics: `${rule.path}.actor: a permission names who may receive the data, itself or in the provision it is nested in`,
      expression: `${rule.path}.actor`,
      reason: 'permit-without-actor',
    });
  }
  if (rule.classes.some((c) => c === '')) {
    problems.push({
      diagnostics: `${rule.path}.class: each data class is a code of ${SYSTEM.dataClass}`,
      expression: `${rule.path}.class`,
      reason: 'invalid-value',
    });
  }
  // The permit and the provisions it is nested in: what restricts them restricts it.
  for (const holder of all.filter((r) => rule.path === r.path || rule.path.startsWith(`${r.path}.`))) {
    const element = UNREAD_PERMIT_ELEMENTS.find((e) => holder.provision[e] !== undefined);
    if (element) {
      problems.push({
        diagnostics: `${holder.path}.${element}: not supported on a permission or what it is nested in; the gateway would honour it more broadly than written (record the permission by purpose, recipient and data class)`,
        expression: `${holder.path}.${element}`,
        reason: 'unsupported-provision-element',
      });
    }
    const actions = (holder.provision.action ?? []).flatMap((a) => a.coding ?? [{}]);
    if (actions.some((c) => c.system !== CONSENT_ACTION || c.code !== 'disclose')) {
      problems.push({
        diagnostics: `${holder.path}.action: only ${CONSENT_ACTION}#disclose is supported on a permission (the gateway only discloses)`,
        expression: `${holder.path}.action`,
        reason: 'unsupported-provision-element',
      });
    }
  }
  return problems;
}

export interface RecordingContext {
  policy: DisclosurePolicy;
  /** Sector of a consent actor (consent-grants.ts GrantContext.sectorOf): the caller resolves SOR codes. */
  sectorOf: (actor: { system: string; value: string }) => Sector | undefined;
}

/**
 * 403 unless the client may record this consent: a patient only about themselves, and every disclosure the
 * consent can permit inside the policy's grant for the client's role; 400 when a permission naming the recording
 * organisation itself lacks the citizen's signed consent as evidence (Consent.source[x]).
 */
export function assertMayRecordConsent(client: GatewayClient, consent: Consent, ctx: RecordingContext): void {
  if (client.role === 'patient' && client.patientCpr !== consentPatientCpr(consent)) {
    throw errors.forbidden({
      diagnostics: 'a patient may record consents about themselves only',
      reason: 'not-own-consent',
    });
  }
  const rules = readProvisions(consent);
  const grant = ctx.policy.grants.find((g) => g.role === client.role);
  const beyond = beyondGrant(rules, grant, { self: client.organization, sectorOf: ctx.sectorOf });
  if (beyond.length > 0) {
    throw errors.forbidden({
      diagnostics: `${beyond.map((b) => b.diagnostics).join('; ')}. ${grant?.description ?? ''}`.trim(),
      reason: 'consent-not-allowed-for-role',
    });
  }
  const self = rules.find((r) => namesSelf(r, client.organization));
  if (client.role !== 'patient' && self && !hasEvidence(consent)) {
    throw errors.invalid({
      diagnostics: `Consent.sourceAttachment: ${self.path} permits disclosure to your own organisation; attach the citizen's signed consent (Consent.sourceAttachment with data or url, or Consent.sourceReference)`,
      expression: 'Consent.sourceAttachment',
      reason: 'consent-evidence-missing',
    });
  }
}

/** R4 Consent.source[x]: an Attachment with content or a location, or a Reference that names something. */
function hasEvidence(consent: Consent): boolean {
  const a = consent.sourceAttachment;
  const r = consent.sourceReference;
  return Boolean((a && (a.data || a.url)) || (r && (r.reference || r.identifier?.value)));
}

function sameOrg(client: GatewayClient, key: string | null): boolean {
  return key !== null && key === `${client.organization.system}|${client.organization.value}`;
}

/** Who may see a consent: admin, the patient, the organisation that recorded it, and an organisation it names. */
export function maySeeConsent(client: GatewayClient, consent: Consent, recordedByOrg: string): boolean {
  if (client.role === 'admin') {
    return true;
  }
  if (client.role === 'patient') {
    return client.patientCpr === consentPatientCpr(consent);
  }
  if (sameOrg(client, recordedByOrg)) {
    return true;
  }
  return readProvisions(consent).some((p) =>
    p.actors.some((a) => a.system === client.organization.system && a.value === client.organization.value),
  );
}

/**
 * Who may change or withdraw a consent: an admin, the patient it is about, and the organisation that owns it
 * (`ownerOrg`: the recorder's `system|value`, null once the patient or an admin has changed it).
 */
export function mayChangeConsent(client: GatewayClient, consent: Consent, ownerOrg: string | null): boolean {
  if (client.role === 'admin') {
    return true;
  }
  if (client.role === 'patient') {
    return client.patientCpr === consentPatientCpr(consent);
  }
  return sameOrg(client, ownerOrg);
}
