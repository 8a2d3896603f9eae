import { createFhirValidator, type FhirValidator } from './fhir-validator';

let validator: FhirValidator | undefined;

/** The process-wide validator (profiles from <repo>/profiles), created on first use: indexing R4 takes ~1 s. */
export function getDefaultValidator(): FhirValidator {
  validator ??= createFhirValidator();
  return validator;
}
