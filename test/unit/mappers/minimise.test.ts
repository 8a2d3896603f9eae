import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import { mapNativeDischargeLetter } from '../../../src/mappers/discharge-letter/from-native';
import { buildMessageBundle } from '../../../src/mappers/message/build-message';
import { minimiseDocument } from '../../../src/mappers/minimise';
import type { NativeDischargeLetter } from '../../../src/mappers/native-types';
import { getDefaultValidator } from '../../../src/validation';
import { testContext } from '../../helpers/mapping-context';

/** A recipient outside health care gets only what the consent covers: nothing withheld appears anywhere. */
const letter = () =>
  JSON.parse(
    readFileSync(join(__dirname, '../../fixtures/discharge-letter.native.json'), 'utf8'),
  ) as NativeDischargeLetter;
const DIAGNOSIS_TERMS = ['F32.2', 'F41.1', 'DF322', 'Depressiv enkeltepisode', 'Generaliseret angst'];
const MEDICATION_TERMS = [
  'Escitalopram',
  'escitalopram',
  'Zopiclon',
  'Oxazepam',
  'N06AB10',
  'N05CF01',
  'N05BA04',
  '15 mg morgen',
];
const NOTE_TERMS = ['selvmordstanker', 'samtaleterapi'];

function message(disclose: string[]): Bundle {
  const ctx = testContext();
  const { document } = minimiseDocument(mapNativeDischargeLetter(letter(), ctx), disclose);
  return buildMessageBundle({
    document,
    event: 'discharge-letter',
    messageHeaderId: 'm1',
    bundleId: 'b1',
    sender: { sor: '265161000016004' },
    receiver: { sor: '999999', endpointAddress: 'http://x' },
    ctx,
  });
}
const present = (bundle: Bundle, terms: string[]) => terms.filter((t) => JSON.stringify(bundle).includes(t));

describe('minimised view for a recipient outside health care', () => {
  it('withholds diagnoses, medication and clinical notes everywhere, narrative included, unless disclosed', () => {
    const bundle = message(['discharge-letter']);
    expect(present(bundle, [...DIAGNOSIS_TERMS, ...MEDICATION_TERMS, ...NOTE_TERMS])).toEqual([]);
    const types = (bundle.entry ?? []).map((e) => e.resource?.resourceType);
    expect(types).not.toContain('Condition');
    expect(types).not.toContain('MedicationStatement');
    expect(JSON.stringify(bundle)).toContain('Withheld under consent');
  });

  it('keeps the follow-up plan in outline and whom to contact', () => {
    const text = JSON.stringify(message(['discharge-letter']));
    expect(text).toContain('Samtale i distriktspsykiatrien');
    expect(text).toContain('Afsnit P3, vagthavende læge');
  });

  it('marks the copy REDACTED and it still conforms to the profiles', () => {
    const bundle = message(['discharge-letter']);
    const composition = bundle.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource;
    expect(composition?.meta?.security?.[0]?.code).toBe('REDACTED');
    expect(
      getDefaultValidator()
        .validate(bundle)
        .filter((i) => i.severity === 'error'),
    ).toEqual([]);
  });

  it('includes exactly the classes a consent covers', () => {
    const withDiagnosis = message(['discharge-letter', 'diagnosis']);
    expect(present(withDiagnosis, ['F32.2'])).toEqual(['F32.2']);
    expect(present(withDiagnosis, MEDICATION_TERMS)).toEqual([]);
    const everything = message(['discharge-letter', 'diagnosis', 'medication', 'clinical-notes']);
    expect(present(everything, ['F32.2', 'Escitalopram', 'selvmordstanker'])).toHaveLength(3);
    expect(JSON.stringify(everything)).not.toContain('REDACTED');
  });
});

describe('built anew, not copied and stripped', () => {
  const MARKER = 'SMUGGLED-PSYKOSE-MARKER';
  /** A letter as a FHIR sender might shape it: its resources carry elements and resources the gateway never checks. */
  const ctx = testContext();
  function smuggling() {
    const doc = mapNativeDischargeLetter(letter(), ctx);
    const entries = doc.entries.map((e) => {
      const r = structuredClone(e.resource) as unknown as Record<string, unknown>;
      if (r.resourceType === 'Patient') {
        r.extension = [{ url: 'http://example.org/note', valueString: MARKER }];
        r.text = { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${MARKER}</div>` };
      }
      if (r.resourceType === 'Encounter') {
        r.reasonCode = [{ text: MARKER }];
        r.modifierExtension = [{ url: 'http://example.org/m', valueString: MARKER }];
      }
      if (r.resourceType === 'CarePlan') {
        r.note = [{ text: MARKER }];
      }
      if (r.resourceType === 'Composition') {
        r.extension = [{ url: 'http://example.org/c', valueString: MARKER }];
      }
      return { ...e, resource: r as unknown as typeof e.resource };
    });
    const procedure = {
      fullUrl: 'urn:uuid:99999999-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'Procedure',
        id: 'p1',
        status: 'completed',
        subject: {},
        code: { text: MARKER },
      } as never,
    };
    const composition = entries.find((e) => e.resource.resourceType === 'Composition')
      ?.resource as typeof doc.composition;
    return { ...doc, composition, entries: [...entries, procedure] };
  }

  it('carries nothing the gateway did not put in: no extension, reason, note, narrative or unknown resource', () => {
    const { document } = minimiseDocument(smuggling(), ['discharge-letter']);
    const bundle = buildMessageBundle({
      document,
      event: 'discharge-letter',
      messageHeaderId: 'm1',
      bundleId: 'b1',
      sender: { sor: '265161000016004' },
      receiver: { sor: '999999', endpointAddress: 'http://x' },
      ctx,
    });
    expect(JSON.stringify(bundle)).not.toContain(MARKER);
    expect((bundle.entry ?? []).map((e) => e.resource?.resourceType)).not.toContain('Procedure');
    expect(JSON.stringify(bundle)).toContain('Samtale i distriktspsykiatrien');
    expect(
      getDefaultValidator()
        .validate(bundle)
        .filter((i) => i.severity === 'error'),
    ).toEqual([]);
  });
});
