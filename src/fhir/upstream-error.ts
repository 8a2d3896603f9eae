import type { OperationOutcome } from 'fhir/r4';
import { isRetryableStatus } from '../errors';

/**
 * The one place that understands how fhir-kit-client fails. It throws plain `{ response: { status, data },
 * config }` objects for HTTP errors (config.headers carries our Authorization header: never keep it) and
 * Errors for network failures and aborts. Everything else in the gateway sees an UpstreamFailure.
 */
export interface UpstreamFailure {
  /** HTTP status when the recipient answered, undefined for network failures and timeouts. */
  readonly status: number | undefined;
  /** Network errors, timeouts, 408, 429 and 5xx are worth another try; other 4xx are not. */
  readonly retryable: boolean;
  /** Short reason for tracking and logs: the recipient's own diagnostics where it gave some. */
  readonly message: string;
  readonly outcome: OperationOutcome | undefined;
  /** For the operator's log only: the network error's code and message (never shown to senders). */
  readonly detail?: string;
}

/**
 * What a sender is told when the recipient was not reached, whatever the cause (refused connection, reset,
 * TLS failure, timeout, unknown name, an address the outbound policy refuses): one text, so the gateway's
 * answers never tell an open port from a closed one. `detail` carries the cause for the log.
 */
export const RECIPIENT_UNREACHABLE = 'recipient not reached (no connection, no answer in time, or address not allowed)';

const MAX_MESSAGE = 500;

export function normalizeUpstreamError(e: unknown): UpstreamFailure {
  const response = (e as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  if (response && typeof response.status === 'number') {
    const status = response.status;
    const outcome = isOperationOutcome(response.data) ? response.data : undefined;
    const reason = outcome?.issue.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ');
    return {
      status,
      retryable: isRetryableStatus(status),
      message: truncate(`HTTP ${status}${reason ? `: ${reason}` : ''}`),
      outcome,
    };
  }
  type NetworkError = { name?: string; type?: string; code?: string; message?: string; cause?: NetworkError } | null;
  const err = e as NetworkError;
  const cause = err?.cause ?? err;
  const detail =
    err?.name === 'AbortError' || err?.type === 'aborted'
      ? 'timed out'
      : `${cause?.code ?? cause?.name ?? err?.type ?? 'network-error'}: ${cause?.message ?? ''}`;
  return {
    status: undefined,
    retryable: true,
    message: RECIPIENT_UNREACHABLE,
    outcome: undefined,
    detail: truncate(detail),
  };
}

export function isOperationOutcome(value: unknown): value is OperationOutcome {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { resourceType?: unknown }).resourceType === 'OperationOutcome'
  );
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}
