import type { OperationOutcome } from 'fhir/r4';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError, errors } from '../errors';
import { UnmappableInput } from '../mappers/unmappable-input';
import { maskPath } from '../observability/log-safety';
import type { Logger } from '../observability/logger';
import { databaseUnavailable } from '../store/unavailable';

export const REQUEST_ID_EXTENSION = 'http://sektorbro.dk/fhir/StructureDefinition/request-id';

/** Sends an OperationOutcome as application/fhir+json, tagged with the request id. */
export function sendOutcome(res: Response, status: number, outcome: OperationOutcome): void {
  const requestId = res.locals.requestId;
  const body: OperationOutcome = requestId
    ? { ...outcome, extension: [{ url: REQUEST_ID_EXTENSION, valueString: requestId }] }
    : outcome;
  res.status(status).type('application/fhir+json').send(JSON.stringify(body));
}

/**
 * Turns everything that goes wrong into an OperationOutcome: our own GatewayErrors as they are, the body
 * parser's errors as 400/413/415, a lost database as 503, and anything else as a generic 500 whose details
 * go only to the log.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toGatewayError(err);
    const log = { requestId: res.locals.requestId, method: req.method, path: maskPath(req.path), status: error.status };
    if (error.status >= 500) {
      logger.error({ ...log, err: err instanceof GatewayError ? (err.cause ?? err) : err }, 'request failed');
    } else {
      logger.info({ ...log, reason: error.outcome.issue[0]?.details?.coding?.[0]?.code }, 'request rejected');
    }
    sendOutcome(res, error.status, error.outcome);
  };
}

function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) {
    return err;
  }
  if (err instanceof UnmappableInput) {
    // Services answer a mapper's issues themselves (400 or 422); one that did not still has bad input, not a fault.
    return errors.invalid(...err.issues);
  }
  const e = err as { type?: unknown; status?: unknown; limit?: unknown; message?: unknown; charset?: unknown } | null;
  switch (e?.type) {
    case 'entity.parse.failed':
      return errors.invalid({
        diagnostics: `body: malformed JSON (${typeof e.message === 'string' ? e.message.slice(0, 200) : 'parse error'})`,
        expression: 'body',
        reason: 'malformed-json',
      });
    case 'entity.too.large':
      return errors.tooLarge({ diagnostics: `body: larger than the limit of ${String(e.limit)} bytes` });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return errors.unsupportedMediaType({
        diagnostics: `body: unsupported charset or encoding ${typeof e.charset === 'string' ? e.charset : ''}`.trim(),
      });
    case 'request.aborted':
      return errors.invalid({ diagnostics: 'body: the request was aborted before it was complete', reason: 'aborted' });
    default:
      break;
  }
  const unavailable = databaseUnavailable(err);
  return unavailable instanceof GatewayError ? unavailable : errors.internal(err);
}

/** 404 for routes that do not exist, as an OperationOutcome like every other error. */
export function notFoundHandler() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(errors.notFound({ diagnostics: `no route ${req.method} ${req.path}` }));
  };
}
