import fc from 'fast-check';
import type { Consent, ConsentProvision } from 'fhir/r4';
import type { GatewayClient, Role } from '../../../src/auth/clients';
import { assertConsentShape, assertMayRecordConsent } from '../../../src/consent/consent-rules';
import { loadPolicy } from '../../../src/consent/disclosure-guard';
import { decideDisclosure, type Sector } from '../../../src/consent/evaluate-consent';
import { GatewayError } from '../../../src/errors';
import { SYSTEM } from '../../../src/mappers/systems';

/**
 * The subset rule, by property: for every role, whatever consent a client of that role manages to record, every
 * disclosure that consent makes possible (measured by the evaluator itself: a request the policy and the other
 * consents would not allow, or a data class they would not disclose, that this consent allows) lies inside what
 * the policy's `grants` let that role grant. Consents are generated from a universe of recipients (the
 * recording organisation itself, other municipalities, an employer, health-care and municipal SOR codes, an
 * unknown SOR, whole sectors), purposes, data classes, nested provisions with and without types, evidence or
 * none; thousands per role. The oracle reads the policy file's grants directly, not through src/.
 */
const policy = loadPolicy();
const RUNS = 2000;

const PATIENT = '0101901234';
const ORG = {
  hospital: { system: SYSTEM.sor, value: '265161000016004' },
  gp: { system: SYSTEM.sor, value: '481101000016000' },
  jobcentre: { system: SYSTEM.municipality, value: '0101' },
  employer: { system: SYSTEM.cvr, value: '12345678' },
  admin: { system: SYSTEM.sor, value: '000000000000000' },
  patient: { system: SYSTEM.cpr, value: 'citizen-portal' },
  caremanager: { system: SYSTEM.sor, value: '265161000016011' },
};
const clientOf = (role: Role): GatewayClient => ({
  id: `test-${role}`,
  role,
  organization: ORG[role],
  ...(role === 'patient' ? { patientCpr: PATIENT } : {}),
});

/** Recipients as the directory knows them: identifier, and the sectors a request to it can be evaluated in. */
const RECIPIENTS: Array<{ id: { system: string; value: string }; sectors: Sector[]; known?: Sector }> = [
  { id: ORG.jobcentre, sectors: ['municipality'], known: 'municipality' },
  { id: { system: SYSTEM.municipality, value: '0751' }, sectors: ['municipality'], known: 'municipality' },
  { id: ORG.employer, sectors: ['employer'], known: 'employer' },
  { id: { system: SYSTEM.cvr, value: '87654321' }, sectors: ['employer'], known: 'employer' },
  { id: ORG.gp, sectors: ['health'], known: 'health' },
  { id: ORG.hospital, sectors: ['health'], known: 'health' },
  // Municipal home care identified by SOR: a SOR code is not by itself a health-care organisation.
  { id: { system: SYSTEM.sor, value: '521111000016003' }, sectors: ['municipality'], known: 'municipality' },
  // Not in the directory when the consent is recorded: it may turn up later in any sector.
  { id: { system: SYSTEM.sor, value: '999999999999999' }, sectors: ['health', 'municipality', 'employer'] },
];
const SECTOR_ACTORS = (['health', 'municipality', 'employer'] as const).map((value) => ({
  system: SYSTEM.sector,
  value,
}));
const PURPOSES = ['TREAT', 'work-capacity-assessment', 'sickness-benefit-follow-up', 'employer-certificate', 'HMARKT'];
const CLASSES = [
  'discharge-letter',
  'clinical-document',
  'encounter-notification',
  'status-report',
  'status-report-request',
  'sick-leave-certificate',
  'sick-leave-minimal',
  'functional-capacity',
  'expected-duration',
  'treatment-plan-outline',
  'diagnosis',
  'medication',
  'clinical-notes',
  'employer-certificate',
];
const KINDS = ['status-report', 'sick-leave-certificate', 'discharge-letter'];

/** The sector the gateway resolves an actor to when the consent is recorded (the directory at that time). */
const sectorAtRecording = (a: { system: string; value: string }): Sector | undefined =>
  a.system === SYSTEM.sector
    ? (a.value as Sector)
    : RECIPIENTS.find((r) => r.id.system === a.system && r.id.value === a.value)?.known;

/** The oracle: whether the policy file's grant for the role covers one disclosure. */
function granted(
  role: Role,
  to: { id: { system: string; value: string }; sector: Sector },
  purpose: string,
  c: string,
) {
  const grant = policy.grants.find((g) => g.role === role);
  return (grant?.permits ?? []).some(
    (p) =>
      (p.recipients === 'any' ||
        (p.recipients === 'self' && to.id.system === ORG[role].system && to.id.value === ORG[role].value) ||
        (Array.isArray(p.recipients) && p.recipients.includes(to.sector))) &&
      (p.purposes === 'any' || p.purposes.includes(purpose)) &&
      (p.dataClasses === 'any' || p.dataClasses.includes(c)),
  );
}

const coding = (system: string) => (code: string) => ({ system, code });
const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };

/**
 * What the generator draws from. Half the consents are drawn from everything; half lean towards the role's own
 * grant (its own organisation, the sectors, purposes and classes it may grant) with outsiders mixed in, so that
 * enough of them are recorded and the edges of the grant are where the generator spends its time.
 */
interface Pools {
  actors: fc.Arbitrary<{ system: string; value: string }>;
  purposes: fc.Arbitrary<string>;
  classes: fc.Arbitrary<string>;
}
function pools(role: Role, nearGrant: boolean): Pools {
  const everyone = fc.oneof(
    { weight: 3, arbitrary: fc.constant(ORG[role]) },
    { weight: 4, arbitrary: fc.constantFrom(...RECIPIENTS.map((r) => r.id)) },
    { weight: 1, arbitrary: fc.constantFrom(...SECTOR_ACTORS) },
  );
  if (!nearGrant) {
    return { actors: everyone, purposes: fc.constantFrom(...PURPOSES), classes: fc.constantFrom(...CLASSES) };
  }
  const permits = policy.grants.find((g) => g.role === role)?.permits ?? [];
  const listed = (pick: (p: (typeof permits)[number]) => 'any' | string[], all: string[]) => {
    const codes = [...new Set(permits.flatMap((p) => (pick(p) === 'any' ? all : (pick(p) as string[]))))];
    return codes.length ? codes : all;
  };
  const sectors = permits.flatMap((p) => (Array.isArray(p.recipients) ? p.recipients : []));
  const inSector = RECIPIENTS.filter((r) => r.known && sectors.includes(r.known)).map((r) => r.id);
  const near = <T>(own: fc.Arbitrary<T>, other: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 8, arbitrary: own }, { weight: 1, arbitrary: other });
  return {
    actors: near(
      fc.constantFrom(ORG[role], ...SECTOR_ACTORS.filter((a) => sectors.includes(a.value)), ...inSector),
      everyone,
    ),
    purposes: near(fc.constantFrom(...listed((p) => p.purposes, PURPOSES)), fc.constantFrom(...PURPOSES)),
    classes: near(fc.constantFrom(...listed((p) => p.dataClasses, CLASSES)), fc.constantFrom(...CLASSES)),
  };
}

const provisionArb = (depth: number, from: Pools): fc.Arbitrary<ConsentProvision> =>
  fc
    .record(
      {
        type: fc.oneof(
          { weight: 9, arbitrary: fc.constant('permit' as const) },
          { weight: 3, arbitrary: fc.constant('deny' as const) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        actor: fc.array(from.actors, { minLength: 1, maxLength: 2 }),
        purpose: fc.array(from.purposes, { minLength: 1, maxLength: 2 }),
        class: fc.array(from.classes, { minLength: 1, maxLength: 4 }),
        provision:
          depth > 0 ? fc.array(provisionArb(depth - 1, from), { minLength: 1, maxLength: 2 }) : fc.constant(undefined),
      },
      { requiredKeys: [] },
    )
    .map(({ type, actor, purpose, class: classes, provision }) => ({
      ...(type ? { type } : {}),
      ...(actor ? { actor: actor.map((a) => ({ role: IRCP, reference: { identifier: a } })) } : {}),
      ...(purpose
        ? {
            purpose: purpose.map((p) => coding(p === 'TREAT' || p === 'HMARKT' ? SYSTEM.actReason : SYSTEM.purpose)(p)),
          }
        : {}),
      ...(classes ? { class: classes.map(coding(SYSTEM.dataClass)) } : {}),
      ...(provision ? { provision } : {}),
    }));
const consentArb = (role: Role): fc.Arbitrary<Consent> =>
  fc
    .record({
      patient: fc.constantFrom(PATIENT, PATIENT, PATIENT, '0202902345'),
      evidence: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      provision: fc.oneof(provisionArb(2, pools(role, false)), provisionArb(2, pools(role, true))),
    })
    .map(({ patient, evidence, provision }) => ({
      resourceType: 'Consent',
      id: 'generated',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { identifier: { system: SYSTEM.cpr, value: patient } },
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      ...(evidence ? { sourceAttachment: { contentType: 'application/pdf', url: 'https://example.dk/s.pdf' } } : {}),
      provision,
    }));

/** Whether the role may record the consent; only the gateway's own refusals (4xx) count as "no". */
function recorded(role: Role, consent: Consent): boolean {
  try {
    assertMayRecordConsent(clientOf(role), assertConsentShape(consent), { policy, sectorOf: sectorAtRecording });
    return true;
  } catch (e) {
    if (e instanceof GatewayError && e.status >= 400 && e.status < 500) {
      return false;
    }
    throw e;
  }
}

/**
 * Every disclosure the consent adds to what the policy alone allows, as the evaluator decides it: per recipient
 * (in each sector it can be evaluated in), purpose and message kind, the optional classes disclosed with it and
 * not without it; and, for a status report, each class as a required one (the other way the evaluator reads a
 * permission). The decisions without a consent are computed once.
 */
const AT = new Date('2026-12-01T12:00:00Z');
const REQUESTS = RECIPIENTS.flatMap((r) =>
  r.sectors.flatMap((sector) =>
    PURPOSES.flatMap((purpose) => {
      const base = { from: 'health' as const, to: sector, recipient: r.id, purpose, at: AT };
      const optional = KINDS.map((messageKind) => ({
        request: { ...base, messageKind, dataClasses: [], optionalDataClasses: CLASSES },
        c: undefined,
      }));
      const required = CLASSES.map((c) => ({
        request: { ...base, messageKind: KINDS[0]!, dataClasses: [c], optionalDataClasses: [] },
        c,
      }));
      return [...optional, ...required].map(({ request, c }) => {
        const without = decideDisclosure(policy, request, []);
        return { to: { id: r.id, sector }, purpose, request, c, without: without.permit ? without.disclose : [] };
      });
    }),
  ),
);

function added(
  consent: Consent,
): Array<{ to: { id: { system: string; value: string }; sector: Sector }; purpose: string; c: string }> {
  return REQUESTS.flatMap(({ to, purpose, request, c, without }) => {
    const withIt = decideDisclosure(policy, request, [consent]);
    if (!withIt.permit) {
      return [];
    }
    if (c !== undefined) {
      return without.length === 0 ? [{ to, purpose, c }] : [];
    }
    return withIt.disclose.filter((d) => !without.includes(d)).map((d) => ({ to, purpose, c: d }));
  });
}

const hasDeny = (p: ConsentProvision | undefined): boolean =>
  !!p && (p.type === 'deny' || (p.provision ?? []).some(hasDeny));

describe('who may record what: recorded permits ⊆ what the policy lets the role grant (property)', () => {
  const roles: Role[] = ['hospital', 'gp', 'jobcentre', 'employer', 'admin', 'patient'];

  it.each(roles)('role %s: every disclosure a recorded consent adds is granted to the role', (role) => {
    let accepted = 0;
    let loosening = 0;
    fc.assert(
      fc.property(consentArb(role), (consent) => {
        if (!recorded(role, consent)) {
          return;
        }
        accepted += 1;
        const extra = added(consent);
        if (extra.length > 0) {
          loosening += 1;
        }
        const outside = extra.filter((d) => !granted(role, d.to, d.purpose, d.c));
        expect(outside).toEqual([]);
        if (!policy.grants.find((g) => g.role === role)?.deny) {
          expect(hasDeny(consent.provision)).toBe(false);
        }
      }),
      { numRuns: RUNS, seed: 20261129 },
    );
    // The property is not vacuous: roles that may grant something recorded consents that did loosen.
    if (role !== 'employer') {
      expect(accepted).toBeGreaterThan(0);
    } else {
      expect(accepted).toBe(0);
    }
    if (role === 'jobcentre' || role === 'patient' || role === 'admin') {
      expect(loosening).toBeGreaterThan(0);
    }
  });
});
