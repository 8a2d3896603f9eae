import type { Consent } from 'fhir/r4';
import { assertConsentShape } from '../../../src/consent/consent-rules';
import { loadPolicy } from '../../../src/consent/disclosure-guard';
import { decideDisclosure } from '../../../src/consent/evaluate-consent';
import { readProvisions } from '../../../src/consent/provisions';
import { GatewayError } from '../../../src/errors';
import { SYSTEM } from '../../../src/mappers/systems';

/**
 * One reading of Consent.provision for evaluation and for the recording check. The fault it removes: a nested
 * provision without a type under a root deny was a deny to "who may record what" (so a GP could record it) and a
 * permit to the evaluator (so it let the employer have the certificate).
 */
const policy = loadPolicy();
const EMPLOYER = { system: SYSTEM.cvr, value: '12345678' };
const actor = { role: { text: 'recipient' }, reference: { identifier: EMPLOYER } };
const codes = (system: string, ...values: string[]) => values.map((code) => ({ system, code }));

/** The elements recording refuses the consent for (status 400), or 'accepted'. */
function refusedElements(consent: Consent): string[] | 'accepted' {
  try {
    assertConsentShape(consent);
    return 'accepted';
  } catch (e) {
    if (!(e instanceof GatewayError) || e.status !== 400) {
      throw e;
    }
    return e.outcome.issue.map((i) => i.expression?.[0] ?? '');
  }
}

/** Root deny of diagnoses to the employer, with an untyped nested provision for the minimal certificate. */
const trick: Consent = {
  resourceType: 'Consent',
  id: 'legacy',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { identifier: { system: SYSTEM.cpr, value: '0101901234' } },
  policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
  provision: {
    type: 'deny',
    actor: [actor],
    class: codes(SYSTEM.dataClass, 'diagnosis'),
    provision: [
      {
        purpose: codes(SYSTEM.purpose, 'employer-certificate'),
        class: codes(SYSTEM.dataClass, 'sick-leave-minimal', 'functional-capacity', 'expected-duration'),
      },
    ],
  },
};

describe('provisions: one reading for evaluation and recording', () => {
  it('reads an untyped provision as deny (fail closed), with what it inherits from its parent', () => {
    const rules = readProvisions(trick);
    expect(rules.map((r) => [r.path, r.typed, r.type])).toEqual([
      ['Consent.provision', true, 'deny'],
      ['Consent.provision.provision[0]', false, 'deny'],
    ]);
    expect(rules[1]).toMatchObject({
      actors: [EMPLOYER],
      purposes: ['employer-certificate'],
      classes: ['sick-leave-minimal', 'functional-capacity', 'expected-duration'],
    });
  });

  it('does not let a consent stored with such a provision permit the employer certificate', () => {
    const decision = decideDisclosure(
      policy,
      {
        messageKind: 'sick-leave-certificate',
        from: 'health',
        to: 'employer',
        recipient: EMPLOYER,
        purpose: 'employer-certificate',
        dataClasses: ['sick-leave-minimal', 'functional-capacity', 'expected-duration'],
        at: new Date('2026-12-01T12:00:00Z'),
      },
      [trick],
    );
    expect(decision.permit).toBe(false);
  });

  it('refuses to record it, naming the nested element', () => {
    expect(refusedElements(trick)).toEqual(['Consent.provision.provision[0].type']);
  });

  it('refuses a permit without purpose or actor, also where the parent gives neither', () => {
    const bare: Consent = { ...trick, provision: { type: 'permit', provision: [{ type: 'permit' }] } };
    expect(refusedElements(bare)).toEqual([
      'Consent.provision.purpose',
      'Consent.provision.actor',
      'Consent.provision.provision[0].purpose',
      'Consent.provision.provision[0].actor',
    ]);
    const inherited: Consent = {
      ...trick,
      provision: {
        type: 'permit',
        actor: [actor],
        purpose: codes(SYSTEM.purpose, 'employer-certificate'),
        provision: [{ type: 'permit', class: codes(SYSTEM.dataClass, 'sick-leave-minimal') }],
      },
    };
    expect(refusedElements(inherited)).toBe('accepted');
  });

  it('refuses permit elements the evaluator would not honour, on the permit or what it is nested in', () => {
    const narrowed: Consent = {
      ...trick,
      provision: {
        type: 'permit',
        actor: [actor],
        purpose: codes(SYSTEM.purpose, 'employer-certificate'),
        data: [{ meaning: 'instance', reference: { reference: 'DocumentReference/one' } }],
        provision: [{ type: 'permit', class: codes(SYSTEM.dataClass, 'sick-leave-minimal') }],
      },
    };
    expect(refusedElements(narrowed)).toEqual(['Consent.provision.data']);
  });

  it('refuses a period the evaluator could not read (it would make a permission open-ended)', () => {
    const open: Consent = {
      ...trick,
      provision: {
        type: 'permit',
        actor: [actor],
        purpose: codes(SYSTEM.purpose, 'employer-certificate'),
        period: { start: '2026-11-22', end: '2026-02-31T25:00:00Z' },
      },
    };
    expect(refusedElements(open)).toEqual(['Consent.provision.period.end']);
  });
});
