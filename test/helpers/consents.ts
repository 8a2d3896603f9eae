import type { Consent, ConsentProvision } from 'fhir/r4';
import { SYSTEM } from '../../src/mappers/systems';
import { PATIENT_CPR } from './directory-fixture';

/**
 * A FHIR Consent for the test patient: permit or deny, one actor, with extra provision fields. It carries the
 * citizen's signed consent as evidence (Consent.sourceAttachment), which a jobcentre recording its own
 * permission must give; delete it to test that rule.
 */
export const SIGNED_CONSENT = {
  contentType: 'application/pdf',
  url: 'https://jobcenter.example.dk/sager/2026-0042/samtykkeerklaering.pdf',
  title: 'Samtykkeerklæring, underskrevet af borgeren',
  creation: '2026-11-22T10:00:00+01:00',
};

export function consentFor(
  type: 'permit' | 'deny',
  actor: { system: string; value: string },
  extra: Partial<ConsentProvision> = {},
  cpr = PATIENT_CPR,
): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEM.cpr, value: cpr } },
    dateTime: '2026-11-22T10:00:00Z',
    sourceAttachment: SIGNED_CONSENT,
    policyRule: {
      coding: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type === 'permit' ? 'OPTIN' : 'OPTOUT' },
      ],
    },
    provision: {
      type,
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { identifier: actor },
        },
      ],
      ...extra,
    },
  };
}

export const dataClasses = (...codes: string[]) => codes.map((code) => ({ system: SYSTEM.dataClass, code }));
export const purposes = (...codes: string[]) => codes.map((code) => ({ system: SYSTEM.purpose, code }));
