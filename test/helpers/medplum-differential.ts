import * as stock from '@medplum/core';
import type { OperationOutcomeIssue } from 'fhir/r4';
import { createFhirValidator, type FhirValidator } from '../../src/validation/fhir-validator';

/**
 * The gateway's validator (medplum-core.ts: profile schemas kept, choice names precomputed) against the same
 * validator on the stock @medplum/core module: every issue of every answer must be the same. Each resource is
 * validated twice by the gateway's, so the second answer comes from the kept schemas.
 */
export interface Differential {
  readonly ours: FhirValidator;
  readonly theirs: FhirValidator;
  /** Every disagreement for one resource, as "what: ours ≠ theirs" lines (empty when they agree). */
  compare(resource: unknown): string[];
}

export function medplumDifferential(): Differential {
  const ours = createFhirValidator();
  const theirs = createFhirValidator({ core: stock });
  const text = (issues: OperationOutcomeIssue[]): string => JSON.stringify(issues);
  const compare = (resource: unknown): string[] => {
    const out: string[] = [];
    const check = (what: string, answer: () => OperationOutcomeIssue[], expected: () => OperationOutcomeIssue[]) => {
      const want = text(expected());
      for (const round of ['first', 'second']) {
        const got = text(answer());
        if (got !== want) {
          out.push(`${what} (${round} call): ${got} ≠ ${want}`);
        }
      }
    };
    check(
      'validate',
      () => ours.validate(resource),
      () => theirs.validate(resource),
    );
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    for (const url of ours.profiles) {
      const sd = ours.artifact(url) as { type?: string } | undefined;
      if (sd?.type === type) {
        check(
          url,
          () => ours.validateAgainst(resource, url),
          () => theirs.validateAgainst(resource, url),
        );
      }
    }
    return out;
  };
  return { ours, theirs, compare };
}
