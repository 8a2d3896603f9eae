import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

/**
 * The one error type of the gateway: an HTTP status plus the OperationOutcome that explains it.
 * Anything else that reaches the error handler is a bug and becomes a generic 500.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    options?: { cause?: unknown },
  ) {
    super(outcome.issue.map((i) => i.diagnostics ?? i.code).join('; '), options);
    this.name = 'GatewayError';
  }
}

export type IssueCode = OperationOutcomeIssue['code'];

export interface IssueInput {
  /** What is wrong, naming the field: "patient.cpr must be 10 digits". */
  diagnostics: string;
  /** FHIRPath or JSON path of the offending element. */
  expression?: string;
  code?: IssueCode;
  severity?: OperationOutcomeIssue['severity'];
  /** Machine-readable kebab-case reason, e.g. "no-listed-gp". */
  reason?: string;
}

export const GATEWAY_ERROR_SYSTEM = 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-error-codes';

export function issue(input: IssueInput): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = {
    severity: input.severity ?? 'error',
    code: input.code ?? 'invalid',
    diagnostics: input.diagnostics,
  };
  if (input.reason) {
    out.details = { coding: [{ system: GATEWAY_ERROR_SYSTEM, code: input.reason }] };
  }
  if (input.expression) {
    out.expression = [input.expression];
  }
  return out;
}

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    text: { status: 'generated', div: narrativeOf(issues) },
    issue: issues.length > 0 ? issues : [{ severity: 'information', code: 'informational', diagnostics: 'All OK' }],
  };
}

function narrativeOf(issues: OperationOutcomeIssue[]): string {
  const items = issues.map((i) => `<li>${escapeXml(`${i.severity}: ${i.diagnostics ?? i.code}`)}</li>`).join('');
  return `<div xmlns="http://www.w3.org/1999/xhtml"><ul>${items || '<li>All OK</li>'}</ul></div>`;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fail(status: number, issues: IssueInput[], defaults: Partial<IssueInput>, cause?: unknown): GatewayError {
  return new GatewayError(status, outcome(issues.map((i) => issue({ ...defaults, ...i }))), { cause });
}

export const errors = {
  invalid: (...issues: IssueInput[]) => fail(400, issues, { code: 'invalid' }),
  unauthorized: (diagnostics: string) => fail(401, [{ diagnostics }], { code: 'login', reason: 'unauthenticated' }),
  forbidden: (diagnostics: string, reason = 'forbidden') => fail(403, [{ diagnostics, reason }], { code: 'forbidden' }),
  notFound: (diagnostics: string) => fail(404, [{ diagnostics }], { code: 'not-found', reason: 'not-found' }),
  conflict: (diagnostics: string, reason = 'conflict') => fail(409, [{ diagnostics, reason }], { code: 'conflict' }),
  tooLarge: (diagnostics: string) => fail(413, [{ diagnostics }], { code: 'too-costly', reason: 'too-large' }),
  unsupportedMediaType: (diagnostics: string) =>
    fail(415, [{ diagnostics }], { code: 'not-supported', reason: 'unsupported-media-type' }),
  unprocessable: (...issues: IssueInput[]) => fail(422, issues, { code: 'processing' }),
  unavailable: (diagnostics: string, cause?: unknown) =>
    fail(503, [{ diagnostics }], { code: 'transient', reason: 'unavailable' }, cause),
  internal: (cause?: unknown) =>
    fail(500, [{ diagnostics: 'Internal error; the request id identifies it in the gateway log' }], { code: 'exception' }, cause),
};

/** Statuses that mean "try again later" when a recipient answers with them. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
