import type { Bundle, Composition, Condition, FhirResource } from 'fhir/r4';
import {
  buildCertificateDocument,
  CERTIFICATE_PROFILE,
  type CertificateView,
} from '../../../src/mappers/sick-leave/certificate-document';
import { checkCertificate, LIMITS, overlapIssue } from '../../../src/mappers/sick-leave/checks';
import {
  asFhirIssue,
  certificateFromDocument,
  COPY_TO_EMPLOYER,
  fhirPathOf,
} from '../../../src/mappers/sick-leave/from-fhir';
import type { NativeSickLeaveCertificate } from '../../../src/mappers/sick-leave/types';
import { SYSTEM } from '../../../src/mappers/systems';
import { testContext } from '../../helpers/mapping-context';
import { sickLeaveCertificate } from '../../helpers/fixtures';

/**
 * The pure sick-leave mappers: the checks a certificate must pass, the view each recipient gets (and the
 * withdrawal notice that replaces it), and reading a FHIR document into the native shape.
 */
const NOW = new Date('2026-11-22T10:00:00Z');
const day = (offset: number) =>
  new Date(Date.parse('2026-11-22') + offset * 24 * 3600 * 1000).toISOString().slice(0, 10);

function certificate(extra: Partial<NativeSickLeaveCertificate> = {}): NativeSickLeaveCertificate {
  return sickLeaveCertificate('0101901234', { from: day(0), expectedTo: day(20) }, extra);
}

const view = (v: Partial<CertificateView> & Pick<CertificateView, 'audience'>): CertificateView =>
  ({ disclose: [], status: 'final', id: 'cert-1', ...v }) as CertificateView;
const build = (v: CertificateView, c = certificate()) => buildCertificateDocument(c, v, testContext());
const sections = (d: ReturnType<typeof build>) => d.composition.resource.section?.map((s) => s.code?.coding?.[0]?.code);
const types = (d: ReturnType<typeof build>) => d.entries.map((e) => e.resource.resourceType);

describe('checkCertificate', () => {
  const fields = (c: NativeSickLeaveCertificate) => checkCertificate(c, NOW).map((i) => [i.expression, i.reason]);

  it('passes a complete certificate', () => {
    expect(checkCertificate(certificate(), NOW)).toEqual([]);
  });

  it('holds the period to its bounds, inclusive at the limits', () => {
    expect(fields(certificate({ period: { from: day(-LIMITS.backdateDays), expectedTo: day(0) } }))).toEqual([]);
    expect(fields(certificate({ period: { from: day(-LIMITS.backdateDays - 1), expectedTo: day(0) } }))).toEqual([
      ['period.from', 'date-out-of-bounds'],
    ]);
    expect(fields(certificate({ period: { from: day(LIMITS.aheadDays), expectedTo: day(LIMITS.aheadDays) } }))).toEqual(
      [],
    );
    expect(
      fields(certificate({ period: { from: day(LIMITS.aheadDays + 1), expectedTo: day(LIMITS.aheadDays + 2) } })),
    ).toEqual([['period.from', 'date-out-of-bounds']]);
    expect(fields(certificate({ period: { from: day(0), expectedTo: day(LIMITS.maxLengthDays) } }))).toEqual([]);
    expect(fields(certificate({ period: { from: day(0), expectedTo: day(LIMITS.maxLengthDays + 1) } }))).toEqual([
      ['period.expectedTo', 'date-out-of-bounds'],
    ]);
    expect(fields(certificate({ period: { from: day(3), expectedTo: day(2) } }))).toEqual([
      ['period.expectedTo', 'period-ends-before-start'],
    ]);
    expect(fields(certificate({ period: { from: day(3), expectedTo: day(3) } }))).toEqual([]);
  });

  it('asks a partial incapacity how much, and a full one not', () => {
    expect(fields(certificate({ incapacity: { degree: 'partial' } }))).toEqual([
      ['incapacity', 'partial-without-degree'],
    ]);
    expect(fields(certificate({ incapacity: { degree: 'partial', percent: 50 } }))).toEqual([]);
    expect(fields(certificate({ incapacity: { degree: 'full', hoursPerWeek: 10 } }))).toEqual([
      ['incapacity.degree', 'full-with-degree'],
    ]);
  });

  it('makes a continuation name what it continues, and a first certificate continue nothing', () => {
    expect(fields(certificate({ kind: 'continuation' }))).toEqual([['continues', 'continuation-without-original']]);
    expect(fields(certificate({ kind: 'first', continues: 'a' }))).toEqual([['continues', 'first-with-original']]);
    expect(fields(certificate({ kind: 'continuation', continues: 'a' }))).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(
      fields(
        certificate({
          kind: 'continuation',
          incapacity: { degree: 'partial' },
          period: { from: day(5), expectedTo: day(1) },
        }),
      ).map(([f]) => f),
    ).toEqual(['period.expectedTo', 'incapacity', 'continues']);
  });
});

describe('overlapIssue', () => {
  const OWN = `${SYSTEM.sor}|own`;
  const stored = [{ id: 'old', start: day(0), end: day(10), issuer: OWN }];

  it('refuses a period that shares a day with a current certificate, naming it', () => {
    const clash = overlapIssue(certificate({ period: { from: day(10), expectedTo: day(20) } }), stored, OWN);
    expect(clash).toMatchObject({ expression: 'period', reason: 'overlapping-period', fromOtherPractice: false });
    expect(clash?.diagnostics).toContain('old');
  });

  it("says of another practice's certificate only that it exists: no id, no period", () => {
    const other = [{ id: 'theirs-123', start: day(3), end: day(8), issuer: `${SYSTEM.sor}|other` }];
    const clash = overlapIssue(certificate({ period: { from: day(0), expectedTo: day(20) } }), other, OWN);
    expect(clash).toMatchObject({ expression: 'period', reason: 'overlapping-period', fromOtherPractice: true });
    expect(clash?.diagnostics).not.toContain('theirs-123');
    expect(clash?.diagnostics).not.toContain(day(3));
    expect(clash?.diagnostics).not.toContain(day(8));
  });

  it('lets a period start the day after, and a correction overlap the certificate it replaces', () => {
    expect(overlapIssue(certificate({ period: { from: day(11), expectedTo: day(20) } }), stored, OWN)).toBeUndefined();
    expect(
      overlapIssue(certificate({ replaces: 'old', period: { from: day(0), expectedTo: day(20) } }), stored, OWN),
    ).toBeUndefined();
  });
});

describe('buildCertificateDocument', () => {
  it('gives the jobcentre diagnosis and clinical note only where the consent discloses them', () => {
    const all = build(view({ audience: 'jobcentre', disclose: ['diagnosis', 'clinical-notes'] }));
    expect(sections(all)).toEqual(['work-incapacity', 'functional-capacity', 'diagnosis', 'clinical-note']);
    expect(all.withheld).toEqual([]);
    expect(all.composition.resource.meta?.security).toBeUndefined();
    expect(
      (all.entries.find((e) => e.resource.resourceType === 'Condition')?.resource as Condition).code?.coding?.[0],
    ).toMatchObject({ system: SYSTEM.icd10, code: 'F32.1' });

    const none = build(view({ audience: 'jobcentre' }));
    expect(sections(none)).toEqual(['work-incapacity', 'functional-capacity', 'withheld']);
    expect(none.withheld).toEqual(['diagnosis', 'clinical-notes']);
    expect(none.composition.resource.meta?.security?.[0]?.code).toBe('REDACTED');
    expect(JSON.stringify(none.entries)).not.toMatch(/F32|sertralin/);
  });

  it('says nothing is withheld where the certificate has nothing to withhold', () => {
    const plain = build(
      view({ audience: 'jobcentre' }),
      certificate({ diagnosis: undefined, clinicalNote: undefined }),
    );
    expect(sections(plain)).toEqual(['work-incapacity', 'functional-capacity']);
  });

  it("blanks the diagnosis out of the employer's free text whatever its case", () => {
    const doc = build(
      view({ audience: 'employer' }),
      certificate({ canDo: 'Trods moderat depressiv enkeltepisode kan hun udføre rolige opgaver.' }),
    );
    const text = JSON.stringify(doc.entries);
    expect(text).not.toMatch(/moderat depressiv/i);
    expect(text).toContain('Trods [udeladt] kan hun');
  });

  it('gives the employer no diagnosis, no clinical note, and blanks the diagnosis out of free text', () => {
    const doc = build(view({ audience: 'employer', disclose: ['diagnosis', 'clinical-notes'] }));
    const text = JSON.stringify(doc.entries);
    for (const forbidden of ['F32', 'Moderat depressiv', 'sertralin', 'Samtaleterapi', '"Condition"']) {
      expect(text).not.toContain(forbidden);
    }
    expect(text).toContain('[udeladt]');
    expect(sections(doc)).toEqual(['work-incapacity', 'functional-capacity']);
    expect(doc.withheld).toEqual([]);
    expect(doc.composition.resource.meta?.profile).toEqual([CERTIFICATE_PROFILE.employer]);
    expect(doc.composition.resource.type.coding?.[0]?.code).toBe('employer-certificate');
  });

  it('marks a correction with relatesTo replaces and a continuation with appends', () => {
    const doc = build(view({ audience: 'jobcentre', replaces: 'old-1', continues: 'prev-1' }));
    expect(doc.composition.resource.relatesTo).toEqual([
      { code: 'replaces', targetIdentifier: { system: SYSTEM.documentId, value: 'old-1' } },
      { code: 'appends', targetIdentifier: { system: SYSTEM.documentId, value: 'prev-1' } },
    ]);
  });

  describe('a withdrawal notice', () => {
    const reason = 'Forkert patient; depressionen hører til journal 4711.';

    it("gives the jobcentre the physician's free-text reason only where its consent covers clinical notes", () => {
      const text = JSON.stringify(
        build(view({ audience: 'jobcentre', status: 'entered-in-error', withdrawal: { because: 'cancelled', reason } }))
          .entries,
      );
      expect(text).toContain('annulleret');
      expect(text).not.toContain('journal 4711');
      expect(text).not.toContain('depressionen');
    });

    it('gives the jobcentre period, degree and the reason, and claims nothing was withheld', () => {
      const doc = build(
        view({
          audience: 'jobcentre',
          disclose: ['clinical-notes'],
          status: 'entered-in-error',
          withdrawal: { because: 'cancelled', reason },
        }),
      );
      expect(doc.composition.resource.status).toBe('entered-in-error');
      expect(doc.composition.resource.identifier?.value).toBe('cert-1');
      expect(sections(doc)).toEqual(['work-incapacity', 'cancelled']);
      expect(doc.withheld).toEqual([]);
      expect(doc.composition.resource.meta?.security).toBeUndefined();
      expect(JSON.stringify(doc.entries)).toContain('journal 4711');
      expect(JSON.stringify(doc.entries)).not.toMatch(/withheld|Udeladt|F32|sertralin|Kan udføre rolige opgaver/);
      expect(types(doc)).not.toContain('Condition');
    });

    it("blanks the diagnosis's code and name in the reason unless the jobcentre's consent covers the diagnosis", () => {
      const naming = 'Udstedt ved en fejl; F32.1 er forkert.';
      const withheld = JSON.stringify(
        build(
          view({
            audience: 'jobcentre',
            disclose: ['clinical-notes'],
            status: 'entered-in-error',
            withdrawal: { because: 'cancelled', reason: naming },
          }),
        ).entries,
      );
      expect(withheld).not.toContain('F32.1');
      expect(withheld).toContain('Udstedt ved en fejl; [udeladt] er forkert.');
      const covered = JSON.stringify(
        build(
          view({
            audience: 'jobcentre',
            disclose: ['diagnosis', 'clinical-notes'],
            status: 'entered-in-error',
            withdrawal: { because: 'cancelled', reason: naming },
          }),
        ).entries,
      );
      expect(covered).toContain('F32.1 er forkert');
    });

    it('tells the employer only that the certificate was cancelled: no reason, no free text', () => {
      const doc = build(
        view({ audience: 'employer', status: 'entered-in-error', withdrawal: { because: 'cancelled', reason } }),
      );
      const text = JSON.stringify(doc.entries);
      for (const unseen of [
        'journal 4711',
        'depressionen',
        'Begrundelse',
        'Kan udføre rolige opgaver',
        'Moderat depressiv',
        'F32',
      ]) {
        expect(text).not.toContain(unseen);
      }
      expect(text).toContain('annulleret');
      expect(sections(doc)).toEqual(['work-incapacity', 'cancelled']);
      expect(types(doc).filter((t) => t === 'Observation')).toHaveLength(1);
    });

    it('tells a recipient a correction no longer goes to that the certificate it had is withdrawn', () => {
      for (const audience of ['jobcentre', 'employer'] as const) {
        const doc = build(view({ audience, status: 'entered-in-error', withdrawal: { because: 'replaced' } }));
        expect(doc.composition.resource.status).toBe('entered-in-error');
        expect(sections(doc)).toEqual(['work-incapacity', 'cancelled']);
        expect(doc.composition.resource.section?.[1]?.title).toBe('Trukket tilbage (withdrawn)');
        expect(doc.composition.resource.relatesTo).toBeUndefined();
      }
    });
  });
});

describe('certificateFromDocument', () => {
  /** The jobcentre's full view, as a GP system would send it: a document Bundle with the employer named by extension. */
  function document(c = certificate(), change: (entries: Bundle['entry']) => void = () => undefined): Bundle {
    const doc = buildCertificateDocument(
      c,
      view({ audience: 'jobcentre', disclose: ['diagnosis', 'clinical-notes'], id: 'GP-0042' }),
      testContext(),
    );
    const composition: Composition = {
      ...doc.composition.resource,
      extension: [{ url: COPY_TO_EMPLOYER, valueIdentifier: { system: SYSTEM.cvr, value: '12345678' } }],
    };
    const entry = [{ ...doc.entries[0], resource: composition }, ...doc.entries.slice(1)];
    change(entry);
    return { resourceType: 'Bundle', type: 'document', entry };
  }
  const resource = <K extends FhirResource['resourceType']>(entries: Bundle['entry'], type: K) =>
    entries?.find((e) => e.resource?.resourceType === type)?.resource as Extract<FhirResource, { resourceType: K }>;

  it('reads back what the gateway writes', () => {
    const c = certificate({ kind: 'continuation', continues: 'prev-1', replaces: 'old-1' });
    const doc = buildCertificateDocument(
      c,
      view({
        audience: 'jobcentre',
        disclose: ['diagnosis', 'clinical-notes'],
        id: 'GP-0042',
        replaces: 'old-1',
        continues: 'prev-1',
      }),
      testContext(),
    );
    const { certificate: read, issues } = certificateFromDocument({
      resourceType: 'Bundle',
      type: 'document',
      entry: doc.entries,
    });
    expect(issues).toEqual([]);
    // The patient is read by CPR only; the name in the document is not carried over.
    expect(read).toEqual({ ...c, patient: { cpr: c.patient.cpr }, certificateId: 'GP-0042' });
  });

  it('takes the employer from the copy-to-employer extension', () => {
    expect(certificateFromDocument(document()).certificate?.employer).toEqual({ cvr: '12345678' });
  });

  it('names the physician from given and family when there is no name text', () => {
    const bundle = document(certificate(), (entries) => {
      resource(entries, 'Practitioner').name = [{ given: ['Lise', 'Marie'], family: 'Hansen' }];
    });
    expect(certificateFromDocument(bundle).certificate?.issuedBy.name).toBe('Lise Marie Hansen');
  });

  it.each<[string, (entries: Bundle['entry']) => void]>([
    [
      'no name',
      (entries) => {
        delete resource(entries, 'Practitioner').name;
      },
    ],
    [
      'an empty name',
      (entries) => {
        resource(entries, 'Practitioner').name = [{ text: '  ' }];
      },
    ],
    [
      'no Practitioner',
      (entries) => {
        entries?.splice(
          entries.findIndex((e) => e.resource?.resourceType === 'Practitioner'),
          1,
        );
      },
    ],
  ])('asks for Practitioner.name when the document has %s, instead of a nameless certificate', (_label, change) => {
    const { certificate: read, issues } = certificateFromDocument(document(certificate(), change));
    expect(read).toBeUndefined();
    expect(issues.map((i) => i.expression)).toEqual(['Practitioner.name']);
  });

  it('names each missing element by its FHIR path', () => {
    const bundle = document(certificate(), (entries) => {
      resource(entries, 'Observation').effectivePeriod = { start: day(0) };
      delete resource(entries, 'Condition').code;
      delete resource(entries, 'Patient').identifier;
    });
    const { certificate: read, issues } = certificateFromDocument(bundle);
    expect(read).toBeUndefined();
    expect(issues.map((i) => i.expression)).toEqual(['Patient.identifier', 'Observation.effectivePeriod']);
  });

  it('refuses what is not a document led by its Composition', () => {
    expect(
      certificateFromDocument({ resourceType: 'Bundle', type: 'collection', entry: document().entry }).issues.map(
        (i) => i.expression,
      ),
    ).toEqual(['Bundle.entry[0].resource']);
  });
});

describe('fhirPathOf and asFhirIssue', () => {
  it.each([
    ['issuedBy.name', 'Practitioner.name'],
    ['issuedBy.organization.sor', 'Organization.identifier'],
    ['issuedBy.organization.name', 'Organization.name'],
    ['diagnosis.code', 'Condition.code'],
    ['period.from', 'Observation.effectivePeriod.start'],
    ['period.expectedTo', 'Observation.effectivePeriod.end'],
    ['period', 'Observation.effectivePeriod'],
    ['incapacity.degree', 'Observation.valueCodeableConcept'],
    ['incapacity.hoursPerWeek', 'Observation.component'],
    ['patient.cpr', 'Patient.identifier'],
    ['employer.cvr', `Composition.extension('${COPY_TO_EMPLOYER}')`],
    ['replaces', 'Composition.relatesTo'],
    ['jobcentre.municipality', 'jobcentre.municipality'],
    ['Practitioner.name', 'Practitioner.name'],
  ])('reads %s from %s', (native, fhir) => {
    expect(fhirPathOf(native)).toBe(fhir);
  });

  it('restates an issue about a native field at its FHIR path, and leaves other issues alone', () => {
    expect(
      asFhirIssue({
        severity: 'error',
        code: 'invalid',
        diagnostics: 'issuedBy.name must not be empty',
        expression: ['issuedBy.name'],
      }),
    ).toEqual({
      severity: 'error',
      code: 'invalid',
      diagnostics: 'Practitioner.name: issuedBy.name must not be empty',
      expression: ['Practitioner.name'],
    });
    const untouched = { severity: 'error' as const, code: 'forbidden' as const, diagnostics: 'consent: none' };
    expect(asFhirIssue(untouched)).toBe(untouched);
  });
});
