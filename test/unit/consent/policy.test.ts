import type { Consent, ConsentProvision } from 'fhir/r4';
import { decideDisclosure, type DisclosureRequest } from '../../../src/consent/evaluate-consent';
import { loadPolicy } from '../../../src/consent/disclosure-guard';
import { SYSTEM } from '../../../src/mappers/systems';

/** The disclosure policy, rule by rule: defaults, consent effects, deny beats permit, periods and withdrawal. */
const policy = loadPolicy();
const AT = new Date('2026-11-22T12:00:00Z');
const JOBCENTRE = { system: SYSTEM.municipality, value: '0101' };
const OTHER_JOBCENTRE = { system: SYSTEM.municipality, value: '0751' };
const GP = { system: SYSTEM.sor, value: '481101000016000' };
const EMPLOYER = { system: SYSTEM.cvr, value: '12345678' };

let n = 0;
function consent(provision: ConsentProvision, status: Consent['status'] = 'active'): Consent {
  n += 1;
  return {
    resourceType: 'Consent',
    id: `c${n}`,
    status,
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEM.cpr, value: '0101901234' } },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision,
  };
}
const actor = (id: { system: string; value: string }) => ({
  role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
  reference: { identifier: id },
});
const purpose = (code: string) => ({ system: SYSTEM.purpose, code });
const klass = (code: string) => ({ system: SYSTEM.dataClass, code });

const letterToGp: DisclosureRequest = {
  messageKind: 'discharge-letter',
  from: 'health',
  to: 'health',
  recipient: GP,
  purpose: 'TREAT',
  dataClasses: ['discharge-letter'],
  at: AT,
};
const reportToJobcentre: DisclosureRequest = {
  messageKind: 'status-report',
  from: 'health',
  to: 'municipality',
  recipient: JOBCENTRE,
  purpose: 'work-capacity-assessment',
  dataClasses: ['functional-capacity', 'expected-duration', 'treatment-plan-outline'],
  optionalDataClasses: ['diagnosis', 'clinical-notes'],
  at: AT,
};
const certificateToEmployer: DisclosureRequest = {
  messageKind: 'sick-leave-certificate',
  from: 'health',
  to: 'employer',
  recipient: EMPLOYER,
  purpose: 'employer-certificate',
  dataClasses: ['sick-leave-minimal'],
  at: AT,
};
const admission: DisclosureRequest = {
  messageKind: 'admission-notification',
  from: 'health',
  to: 'health',
  recipient: GP,
  purpose: 'TREAT',
  dataClasses: ['encounter-notification'],
  at: AT,
};

const jobcentrePermit = (extra: Partial<ConsentProvision> = {}) =>
  consent({
    type: 'permit',
    period: { start: '2026-11-01', end: '2027-02-01' },
    actor: [actor(JOBCENTRE)],
    purpose: [purpose('work-capacity-assessment')],
    class: [klass('functional-capacity'), klass('expected-duration'), klass('treatment-plan-outline')],
    ...extra,
  });

describe('disclosure policy', () => {
  it.each<[string, DisclosureRequest, Consent[], boolean, string]>([
    [
      'a discharge letter to the own GP is permitted without consent',
      letterToGp,
      [],
      true,
      'health-to-health-treatment',
    ],
    [
      '…unless an active consent denies that GP',
      letterToGp,
      [consent({ type: 'deny', actor: [actor(GP)] })],
      false,
      'health-to-health-treatment',
    ],
    [
      '…or denies the whole health sector',
      letterToGp,
      [consent({ type: 'deny', actor: [actor({ system: SYSTEM.sector, value: 'health' })] })],
      false,
      'health-to-health-treatment',
    ],
    [
      '…but a withdrawn deny counts as none',
      letterToGp,
      [consent({ type: 'deny', actor: [actor(GP)] }, 'inactive')],
      true,
      'health-to-health-treatment',
    ],
    [
      '…and an expired deny counts as none',
      letterToGp,
      [consent({ type: 'deny', actor: [actor(GP)], period: { end: '2026-01-01' } })],
      true,
      'health-to-health-treatment',
    ],
    [
      '…and a deny of another organisation does not apply',
      letterToGp,
      [consent({ type: 'deny', actor: [actor(JOBCENTRE)] })],
      true,
      'health-to-health-treatment',
    ],
    [
      'admission notifications need no consent, even against a deny',
      admission,
      [consent({ type: 'deny', actor: [actor(GP)] })],
      true,
      'encounter-notification-to-own-gp',
    ],
    [
      "admission notifications to the patient's municipal care unit go on the same legal basis",
      { ...admission, to: 'municipality', recipient: JOBCENTRE },
      [consent({ type: 'deny', actor: [actor(JOBCENTRE)] })],
      true,
      'encounter-notification-to-municipal-care',
    ],
    [
      '…but no other health data goes to a municipality that way',
      { ...reportToJobcentre, messageKind: 'discharge-letter' },
      [],
      false,
      'health-to-municipality',
    ],
    ['health data to a municipality is denied without consent', reportToJobcentre, [], false, 'health-to-municipality'],
    [
      '…permitted by a consent for that municipality, purpose and classes',
      reportToJobcentre,
      [jobcentrePermit()],
      true,
      'health-to-municipality',
    ],
    [
      '…not by a consent for another municipality',
      reportToJobcentre,
      [jobcentrePermit({ actor: [actor(OTHER_JOBCENTRE)] })],
      false,
      'health-to-municipality',
    ],
    [
      '…not by a consent for another purpose',
      reportToJobcentre,
      [jobcentrePermit({ purpose: [purpose('employer-certificate')] })],
      false,
      'health-to-municipality',
    ],
    [
      '…not by a consent that lacks a required data class',
      reportToJobcentre,
      [jobcentrePermit({ class: [klass('functional-capacity')] })],
      false,
      'health-to-municipality',
    ],
    [
      '…not by a consent outside its period',
      reportToJobcentre,
      [jobcentrePermit({ period: { start: '2027-01-01' } })],
      false,
      'health-to-municipality',
    ],
    [
      '…not by a withdrawn consent',
      reportToJobcentre,
      [{ ...jobcentrePermit(), status: 'inactive' }],
      false,
      'health-to-municipality',
    ],
    [
      '…and deny beats permit',
      reportToJobcentre,
      [jobcentrePermit(), consent({ type: 'deny', actor: [actor(JOBCENTRE)] })],
      false,
      'health-to-municipality',
    ],
    ['a certificate to an employer is denied without consent', certificateToEmployer, [], false, 'health-to-employer'],
    [
      "…permitted with the patient's consent",
      certificateToEmployer,
      [consent({ type: 'permit', actor: [actor(EMPLOYER)], purpose: [purpose('employer-certificate')] })],
      true,
      'health-to-employer',
    ],
    [
      '…but never with a diagnosis, whatever the consent',
      { ...certificateToEmployer, dataClasses: ['sick-leave-minimal', 'diagnosis'] },
      [consent({ type: 'permit', actor: [actor(EMPLOYER)] })],
      false,
      'health-to-employer',
    ],
    [
      'an employer sending health data is refused by the catch-all',
      { ...letterToGp, from: 'employer' },
      [],
      false,
      'anything-else',
    ],
  ])('%s', (_name, request, consents, permit, rule) => {
    const decision = decideDisclosure(policy, request, consents);
    expect(decision.permit).toBe(permit);
    expect(decision.rule).toBe(rule);
    expect(decision.disclose.length > 0).toBe(permit);
  });

  it('discloses optional data classes only where the consent covers them', () => {
    const without = decideDisclosure(policy, reportToJobcentre, [jobcentrePermit()]);
    expect(without.disclose).toEqual(['functional-capacity', 'expected-duration', 'treatment-plan-outline']);
    const withDiagnosis = decideDisclosure(policy, reportToJobcentre, [
      jobcentrePermit({
        class: [
          klass('functional-capacity'),
          klass('expected-duration'),
          klass('treatment-plan-outline'),
          klass('diagnosis'),
        ],
      }),
    ]);
    expect(withDiagnosis.disclose).toContain('diagnosis');
    expect(withDiagnosis.disclose).not.toContain('clinical-notes');
    expect(withDiagnosis.consent).toMatch(/^Consent\//);
  });

  it('lets a nested deny provision carve an exception out of a permit', () => {
    const nested = jobcentrePermit({
      provision: [{ type: 'deny', class: [klass('diagnosis')] }],
      class: [
        klass('functional-capacity'),
        klass('expected-duration'),
        klass('treatment-plan-outline'),
        klass('diagnosis'),
      ],
    });
    const decision = decideDisclosure(policy, reportToJobcentre, [nested]);
    expect(decision.permit).toBe(true);
    expect(decision.disclose).not.toContain('diagnosis');
  });

  it('never names the consent or the patient in the reason given for a missing consent', () => {
    const decision = decideDisclosure(policy, reportToJobcentre, []);
    expect(decision.reason).toMatch(/no active consent permits disclosure to 0101/);
    expect(decision.reason).not.toMatch(/0101901234/);
  });
});
