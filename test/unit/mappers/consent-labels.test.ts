import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem } from 'fhir/r4';
import { DATA_CLASS } from '../../../src/mappers/consent-labels';

/** The patient reads every kind of information a consent can name in words, never as a code. */
describe('data-class labels', () => {
  const codeSystem = JSON.parse(
    readFileSync(join(__dirname, '../../../profiles/CodeSystem-sektorbro-data-class.json'), 'utf8'),
  ) as CodeSystem;
  const codes = (codeSystem.concept ?? []).map((c) => c.code);

  it.each(codes)('%s has Danish and English words', (code) => {
    expect(DATA_CLASS[code]?.da).toMatch(/\S/);
    expect(DATA_CLASS[code]?.en).toMatch(/\S/);
  });

  it('labels no code the CodeSystem lacks', () => {
    expect(Object.keys(DATA_CLASS).filter((c) => !codes.includes(c))).toEqual([]);
  });
});
