import type { Consent, ConsentProvision } from 'fhir/r4';
import { SYSTEM } from '../../src/mappers/systems';
import { PATIENT_CPR } from './directory-fixture';

/** A FHIR Consent for the test patient: permit or deny, one actor, with extra provision fields. */
export function consentFor(type: 'permit' | 'deny', actor: { system: string; value: string }, extra: Partial<ConsentProvision> = {}, cpr = PATIENT_CPR): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEM.cpr, value: cpr } },
    dateTime: '2026-11-22T10:00:00Z',
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type === 'permit' ? 'OPTIN' : 'OPTOUT' }] },
    provision: {
      type,
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { identifier: actor } }],
      ...extra,
    },
  };
}

export const dataClasses = (...codes: string[]) => codes.map((code) => ({ system: SYSTEM.dataClass, code }));
export const purposes = (...codes: string[]) => codes.map((code) => ({ system: SYSTEM.purpose, code }));
