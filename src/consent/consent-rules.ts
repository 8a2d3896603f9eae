import type { Consent, ConsentProvision } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { errors, type IssueInput } from '../errors';
import { SYSTEM } from '../mappers/systems';

/**
 * What makes a Consent acceptable to the gateway, beyond base FHIR R4, and who may record which consent.
 *
 * - The patient is identified by CPR (Consent.patient.identifier): R4's invariants meant to require a patient
 *   never fire, so the gateway requires it itself. ppc-1: policy or policyRule. A provision with a type.
 * - admin: any consent. patient: only consents about their own CPR (their objections and their permissions).
 * - hospital and gp: objections (deny provisions) and treatment permits (purpose TREAT) for any patient they
 *   treat: a clinician records what the patient tells them.
 * - jobcentre: only the citizen's consent for its own municipality to obtain health information (permits
 *   whose actors are its own organisation); it can never record a deny on the citizen's behalf.
 * - employer: none.
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
    problems.push({ diagnostics: `Consent.patient.identifier: the patient's CPR number (system ${SYSTEM.cpr}, 10 digits) is required`, expression: 'Consent.patient.identifier' });
  }
  if (!consent.policy?.length && !consent.policyRule) {
    problems.push({ diagnostics: 'Consent.policy or Consent.policyRule is required (invariant ppc-1)', expression: 'Consent.policyRule' });
  }
  if (!consent.provision?.type) {
    problems.push({ diagnostics: 'Consent.provision.type (permit or deny) is required: the gateway does not guess what a consent allows', expression: 'Consent.provision.type' });
  }
  const unsupportedActor = (consent.provision ? provisions(consent.provision) : []).flatMap((p) => p.actor ?? []).find((a) => !a.reference.identifier?.system || !a.reference.identifier.value);
  if (unsupportedActor) {
    problems.push({
      diagnostics: `Consent.provision.actor.reference: name the organisation by identifier (SOR ${SYSTEM.sor}, municipality code or CVR) or a whole sector (${SYSTEM.sector})`,
      expression: 'Consent.provision.actor',
    });
  }
  if (problems.length > 0) {
    throw errors.invalid(...problems);
  }
  return consent as Consent;
}

export function assertMayRecordConsent(client: GatewayClient, consent: Consent): void {
  const cpr = consentPatientCpr(consent);
  const all = consent.provision ? provisions(consent.provision) : [];
  switch (client.role) {
    case 'admin':
      return;
    case 'patient':
      if (client.patientCpr !== cpr) {
        throw errors.forbidden('a patient may record consents about themselves only', 'not-own-consent');
      }
      return;
    case 'hospital':
    case 'gp': {
      const ok = all.every((p) => effectiveType(p, consent) === 'deny' || (p.purpose ?? []).every((c) => c.code === 'TREAT'));
      if (!ok) {
        throw errors.forbidden('health-care clients may record objections (deny) and treatment permits (purpose TREAT) only; a municipality records its own consent', 'consent-not-allowed-for-role');
      }
      return;
    }
    case 'jobcentre': {
      const ownOnly = all.every(
        (p) =>
          effectiveType(p, consent) === 'permit' &&
          (p.actor ?? []).length > 0 &&
          (p.actor ?? []).every((a) => a.reference.identifier?.system === client.organization.system && a.reference.identifier.value === client.organization.value),
      );
      if (!ownOnly) {
        throw errors.forbidden("a jobcentre may record only the citizen's permission for its own organisation (every provision a permit naming it as actor)", 'consent-not-allowed-for-role');
      }
      return;
    }
    case 'employer':
      throw errors.forbidden('employers cannot record consents', 'consent-not-allowed-for-role');
  }
}

/** Who may see a consent: admin, the patient, the organisation that recorded it, and an organisation it names. */
export function maySeeConsent(client: GatewayClient, consent: Consent, recordedByOrg: string): boolean {
  if (client.role === 'admin') {
    return true;
  }
  if (client.role === 'patient') {
    return client.patientCpr === consentPatientCpr(consent);
  }
  if (recordedByOrg === `${client.organization.system}|${client.organization.value}`) {
    return true;
  }
  return (consent.provision ? provisions(consent.provision) : []).some((p) =>
    (p.actor ?? []).some((a) => a.reference.identifier?.system === client.organization.system && a.reference.identifier.value === client.organization.value),
  );
}

function provisions(p: ConsentProvision): ConsentProvision[] {
  return [p, ...(p.provision ?? []).flatMap(provisions)];
}

function effectiveType(p: ConsentProvision, consent: Consent): 'permit' | 'deny' {
  return p.type ?? consent.provision?.type ?? 'permit';
}
