import type { OperationOutcomeIssue } from 'fhir/r4';
import { errors } from '../errors';
import type { FhirValidator } from './fhir-validator';

/** At most this many problems go back in one answer: enough to fix a message, not a report of every element. */
const MAX_ISSUES = 20;

/**
 * FHIR input is read only once it is valid R4 (and valid against any profile it claims in meta.profile): the
 * step every FHIR intake takes first (documents, status-report Tasks and answers, certificates, consents, care
 * teams, subscriptions, MedCom acknowledgements and messages). Errors and fatal issues of the validator become
 * one 400 OperationOutcome (reason `invalid-value`), each naming its element (FHIRPath in `expression`); at most
 * 20. Warnings and information pass. Returns nothing; throws the 400.
 */
export function assertValidFhirInput(validator: FhirValidator, body: unknown): void {
  const problems = validator.validate(body).filter(isError);
  if (problems.length > 0) {
    throw errors.invalid(
      ...problems.slice(0, MAX_ISSUES).map((p) => ({
        diagnostics: p.diagnostics ?? p.details?.text ?? 'invalid',
        expression: p.expression?.[0],
      })),
    );
  }
}

function isError(issue: OperationOutcomeIssue): boolean {
  return issue.severity === 'error' || issue.severity === 'fatal';
}
