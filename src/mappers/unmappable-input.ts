import type { IssueInput } from '../errors';

/**
 * Input a mapper cannot map, with what is wrong (element, text, reason code of CodeSystem
 * sektorbro-error-codes) and no HTTP status: a mapper does not know the exchange it runs in. The service that
 * called it decides the answer (400 for a body that is not what its format says, 422 for one that is well-formed
 * but cannot be taken; an MLLP ACK code follows from that status). Mappers that can collect several problems
 * return them instead (`IssueInput[]`); this is for the parsers that stop at the first one.
 */
export class UnmappableInput extends Error {
  readonly issues: readonly IssueInput[];

  constructor(...issues: IssueInput[]) {
    super(issues.map((i) => i.diagnostics).join('; '));
    this.name = 'UnmappableInput';
    this.issues = issues;
  }
}
