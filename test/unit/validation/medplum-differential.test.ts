import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { profileCachePatched } from '../../../src/validation/medplum-core';
import { medplumDifferential } from '../../helpers/medplum-differential';
import { profileExamples } from '../../helpers/profile-examples';
import { asDocumentBundle, nativeLetter } from '../../helpers/fixtures';
import { mapNativeDischargeLetter } from '../../../src/mappers/discharge-letter/from-native';
import { testContext } from '../../helpers/mapping-context';

/**
 * The gateway validates with a privately loaded @medplum/core that keeps parsed profile schemas
 * (src/validation/medplum-core.ts). These are its verdicts next to the stock module's on the project's own
 * profile examples and on inputs built to reach the changed code (choice elements); any difference fails.
 */
const diff = medplumDifferential();
const examplesDir = join(__dirname, '../../../profiles/examples');

describe('the validator on @medplum/core with kept profile schemas', () => {
  it('is in place for the pinned @medplum/core (an upgrade that changes the bundle shows here)', () => {
    expect(profileCachePatched).toBe(true);
  });

  it.each(readdirSync(examplesDir).filter((f) => f.endsWith('.json')))(
    'gives the stock verdicts on profiles/examples/%s',
    (file) => {
      expect(diff.compare(JSON.parse(readFileSync(join(examplesDir, file), 'utf8')))).toEqual([]);
    },
  );

  it.each(Object.entries(profileExamples()))(
    'gives the stock verdicts on the %s the mappers build',
    (_name, bundle) => {
      expect(diff.compare(bundle)).toEqual([]);
    },
  );

  it('gives the stock verdicts on a FHIR document letter and on broken copies of it', () => {
    const bundle = asDocumentBundle(mapNativeDischargeLetter(nativeLetter(), testContext()));
    expect(diff.compare(bundle)).toEqual([]);
    const broken = structuredClone(bundle) as unknown as { entry: Array<{ resource: Record<string, unknown> }> };
    const composition = broken.entry[0]!.resource;
    delete composition.status;
    composition.title = 7;
    expect(diff.compare(broken)).toEqual([]);
  });

  const observation = (value: Record<string, unknown>) => ({
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'Vægt' },
    ...value,
  });
  it.each([
    ['one choice', { valueQuantity: { value: 72.5, unit: 'kg' } }],
    ['two choices of value[x]', { valueString: 'tung', valueBoolean: true }],
    // The first type in the element's order is the one read: here the bad one, so the order shows in the verdict.
    ['two choices, the earlier one bad', { valueString: 7, valueBoolean: true }],
    ['two choices, the later one bad', { valueString: 'tung', valueBoolean: 'ja' }],
    ['only the extension of a primitive choice', { _valueString: { extension: [] } }],
    ['a choice with its extension', { valueString: 'tung', _valueString: { id: 'x' } }],
    ['a choice of the wrong JSON type', { valueInteger: '72' }],
    ['a name from Object.prototype', { toString: 'x', valueOf: 1 }],
    ['an unknown choice', { valueWeight: 72 }],
    ['effective[x] and value[x] together', { effectiveDateTime: '2026-11-20', valueCodeableConcept: { text: 'x' } }],
  ])('gives the stock verdicts on an Observation with %s', (_name, value) => {
    expect(diff.compare(observation(value))).toEqual([]);
  });

  it('gives the stock verdicts on an extension value of every kind the profiles use', () => {
    const patient = {
      resourceType: 'Patient',
      extension: [
        { url: 'http://example.org/a', valueString: 'x' },
        { url: 'http://example.org/b', valueCoding: { code: 'c' } },
        { url: 'http://example.org/c', valueString: 'x', valueCode: 'y' },
        { url: 'http://example.org/d' },
      ],
      name: [{ family: 'Jensen' }],
    };
    expect(diff.compare(patient)).toEqual([]);
  });
});
