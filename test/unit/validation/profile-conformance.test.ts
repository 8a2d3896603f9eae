import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, MessageHeader } from 'fhir/r4';
import { mapFhirDischargeDocument } from '../../../src/mappers/discharge-letter/from-fhir';
import { buildMessageBundle } from '../../../src/mappers/message/build-message';
import { getDefaultValidator } from '../../../src/validation';
import { testContext } from '../../helpers/mapping-context';
import { profileExamples } from '../../helpers/profile-examples';

/** Everything the gateway emits validates against base R4 and its own profiles; and the profiles bite. */
const validator = getDefaultValidator();
const errorsOf = (resource: unknown) =>
  validator.validate(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
const examplesDir = join(__dirname, '../../../profiles/examples');

describe('profile conformance', () => {
  const generated = profileExamples();

  it.each(Object.keys(generated))('mapper output %s has no errors', (name) => {
    expect(errorsOf(generated[name])).toEqual([]);
  });

  it('claims the gateway profiles on what it emits', () => {
    const message = generated['discharge-letter-message'] as Bundle;
    const claimed = JSON.stringify(message).match(/http:\/\/sektorbro\.dk\/fhir\/StructureDefinition\/[a-z-]+/g) ?? [];
    expect(new Set(claimed)).toEqual(
      new Set(
        [
          'sektorbro-message',
          'sektorbro-message-header',
          'sektorbro-discharge-letter',
          'sektorbro-patient',
          'sektorbro-medication-statement',
          'medication-change',
          'responsible-party',
        ].map((id) => `http://sektorbro.dk/fhir/StructureDefinition/${id}`),
      ),
    );
    for (const url of new Set(claimed)) {
      expect(validator.profiles).toContain(url);
    }
  });

  it.each(readdirSync(examplesDir).filter((f) => f.endsWith('.json')))(
    'profiles/examples/%s validates and is what the mappers emit today',
    (file) => {
      const example = JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as Bundle;
      expect(errorsOf(example)).toEqual([]);
      expect(example).toEqual(generated[file.replace(/\.json$/, '')]);
    },
  );

  it('validates a message made from a FHIR-supplied document too', () => {
    const ctx = testContext(undefined, 'ffffffff');
    const source = generated['discharge-letter-message'] as Bundle;
    const document: Bundle = {
      resourceType: 'Bundle',
      type: 'document',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c5d3d8e-6f41-4a59-9d0b-6c1f0e2f9a11' },
      timestamp: '2026-11-20T10:00:00Z',
      entry: (source.entry ?? []).slice(1, -1),
    };
    const doc = mapFhirDischargeDocument(document, ctx);
    const message = buildMessageBundle({
      document: doc,
      event: 'discharge-letter',
      messageHeaderId: 'm1',
      bundleId: 'b1',
      sender: { sor: '265161000016004' },
      receiver: { sor: '481101000016000', endpointAddress: 'http://x' },
      ctx,
    });
    expect(errorsOf(message)).toEqual([]);
  });

  it.each<[string, (b: Bundle) => void, RegExp]>([
    [
      'an event code outside the gateway CodeSystem',
      (b) => {
        (b.entry?.[0]?.resource as MessageHeader).eventCoding = { system: 'http://example.org', code: 'x' };
      },
      /event\[x\].*pattern/,
    ],
    [
      'a MessageHeader without sender',
      (b) => {
        delete (b.entry?.[0]?.resource as MessageHeader).sender;
      },
      /sender: Missing required property/,
    ],
    [
      'a message without its MessageHeader first',
      (b) => {
        b.entry?.reverse();
      },
      /bdl-12/,
    ],
    [
      'a patient without CPR',
      (b) => {
        const p = b.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as unknown as {
          identifier: unknown[];
        };
        p.identifier = [{ system: 'urn:oid:1.2.208.176.1.2', value: '12' }];
      },
      /sb-pat-1/,
    ],
    [
      'a medication without change status',
      (b) => {
        const m = b.entry?.find((e) => e.resource?.resourceType === 'MedicationStatement')?.resource as {
          extension?: unknown;
        };
        delete m.extension;
      },
      /sb-med-1/,
    ],
    [
      'a discharge letter without custodian',
      (b) => {
        const c = b.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource as { custodian?: unknown };
        delete c.custodian;
      },
      /custodian: Missing required property/,
    ],
    [
      'a message without Provenance',
      (b) => {
        b.entry = b.entry?.filter((e) => e.resource?.resourceType !== 'Provenance');
      },
      /sb-msg-1/,
    ],
  ])('finds %s', (_name, breakIt, expected) => {
    const b = structuredClone(generated['discharge-letter-message'] as Bundle);
    breakIt(b);
    expect(
      errorsOf(b)
        .map((i) => i.diagnostics)
        .join(' | '),
    ).toMatch(expected);
  });
});
