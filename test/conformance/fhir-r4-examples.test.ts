import { mapFhirDischargeDocument } from '../../src/mappers/discharge-letter/from-fhir';
import { SYSTEM } from '../../src/mappers/systems';
import { UnmappableInput } from '../../src/mappers/unmappable-input';
import { testContext } from '../helpers/mapping-context';
import { readShared } from './shared-dir';

/** The FHIR discharge-letter reader against the official R4 examples. */
const example = (name: string): unknown => JSON.parse(readShared('utf8', 'corpus/fhir-r4-examples', name));

const expectInvalid = (input: unknown, text: RegExp) => {
  let error: unknown;
  try {
    mapFhirDischargeDocument(input, testContext());
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UnmappableInput);
  expect((error as UnmappableInput).issues[0]?.diagnostics).toMatch(text);
};

describe('FHIR discharge document on the official R4 examples', () => {
  it('resolves a relative subject (Type/id) in the official Bundle-father example, then asks for its missing CPR', () => {
    // Had the relative reference not resolved, the answer would be about Composition.subject instead.
    expectInvalid(example('Bundle-father.json'), /CPR number/);
  });

  it('refuses the official R4 discharge-summary example, which has no CPR number', () => {
    expectInvalid(
      example('document-example-dischargesummary.json'),
      new RegExp(`CPR number \\(system ${SYSTEM.cpr.replace(/\./g, '\\.')}\\)`),
    );
  });
});
