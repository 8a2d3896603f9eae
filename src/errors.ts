import type { CodeableConcept, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';
import type { ReasonCode } from './error-reasons';

export type { ReasonCode } from './error-reasons';

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
  /** Machine-readable reason of CodeSystem sektorbro-error-codes, e.g. "no-listed-gp". */
  reason?: ReasonCode;
}

export const GATEWAY_ERROR_SYSTEM = 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-error-codes';

export function issue(input: IssueInput): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = {
    severity: input.severity ?? 'error',
    code: input.code ?? 'invalid',
    diagnostics: input.diagnostics,
  };
  if (input.reason) {
    out.details = reasonDetails(input.reason);
  }
  if (input.expression) {
    out.expression = [input.expression];
  }
  return out;
}

/** OperationOutcome.issue.details naming a reason of CodeSystem sektorbro-error-codes. */
export function reasonDetails(reason: ReasonCode): CodeableConcept {
  return { coding: [{ system: GATEWAY_ERROR_SYSTEM, code: reason }] };
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
  return new GatewayError(
    status,
    outcome(issues.map((i) => issue({ ...defaults, ...i, reason: i.reason ?? defaults.reason }))),
    { cause },
  );
}

/**
 * One builder per status, each taking the issues that explain it (IssueInput: the element, the text, the
 * reason). A builder supplies the issue code and, where an issue names none, a default reason.
 */
export const errors = {
  // Every 400 carries a machine-readable reason: a specific one where the caller names it, else invalid-value.
  invalid: (...issues: IssueInput[]) => fail(400, issues, { code: 'invalid', reason: 'invalid-value' }),
  unauthorized: (...issues: IssueInput[]) => fail(401, issues, { code: 'login', reason: 'unauthenticated' }),
  forbidden: (...issues: IssueInput[]) => fail(403, issues, { code: 'forbidden', reason: 'forbidden' }),
  notFound: (...issues: IssueInput[]) => fail(404, issues, { code: 'not-found', reason: 'not-found' }),
  conflict: (...issues: IssueInput[]) => fail(409, issues, { code: 'conflict', reason: 'conflict' }),
  tooLarge: (...issues: Array<IssueInput & { reason?: 'too-large' | 'too-many-values' }>) =>
    fail(413, issues, { code: 'too-costly', reason: 'too-large' }),
  unsupportedMediaType: (...issues: IssueInput[]) =>
    fail(415, issues, { code: 'not-supported', reason: 'unsupported-media-type' }),
  unprocessable: (...issues: IssueInput[]) => fail(422, issues, { code: 'processing' }),
  /** 429: the caller sends too much; the route sets Retry-After. */
  tooManyRequests: (...issues: Array<IssueInput & { reason: 'rate-limited' | 'too-many-failed-logins' }>) =>
    fail(429, issues, { code: 'throttled' }),
  /** 503: try again later; `cause` (the error behind it) goes to the log only. */
  unavailable: (issue: IssueInput, cause?: unknown) =>
    fail(503, [issue], { code: 'transient', reason: 'unavailable' }, cause),
  internal: (cause?: unknown) =>
    fail(
      500,
      [{ diagnostics: 'Internal error; the request id identifies it in the gateway log' }],
      { code: 'exception' },
      cause,
    ),
};

/** Statuses that mean "try again later" when a recipient answers with them. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
