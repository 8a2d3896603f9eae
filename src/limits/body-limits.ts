import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Limits } from '../config';
import { errors } from '../errors';
import { hl7Body, jsonBody } from '../http/body';

/**
 * Which size of body a route needs. Documents carry attachments (a PDF discharge letter, base64), `$convert` is
 * a dry run that needs the document's structure, not its attachments, the directory load (admins) takes a whole
 * register, and every other route takes a small JSON object (a consent, a request, an acknowledgement).
 */
export type BodyClass = 'document' | 'convert' | 'directory' | 'small';

/**
 * The large-body routes and the roles each admits (its requireRole): a client of any other role is refused by
 * the route, so it gets the small limit and is answered 413 before the gateway reads and parses megabytes for it.
 */
const LARGE_BODY_ROUTES: Record<string, { cls: BodyClass; roles: readonly string[] }> = {
  '/discharge-letters': { cls: 'document', roles: ['hospital'] },
  '/send-to-own-gp': { cls: 'document', roles: ['hospital', 'gp'] },
  '/hl7v2': { cls: 'document', roles: ['hospital'] },
  '/$convert': { cls: 'convert', roles: ['hospital', 'gp'] },
  '/fhir': { cls: 'directory', roles: ['admin'] },
  // MedCom messages from GP, hospital and municipal systems carry their attachments (PDFs) inline.
  '/fhir/$process-message': { cls: 'document', roles: ['hospital', 'gp', 'jobcentre', 'caremanager'] },
};

export function bodyClassOf(method: string, path: string, role?: string): BodyClass {
  const route = method === 'POST' ? LARGE_BODY_ROUTES[path] : undefined;
  return route && role !== undefined && route.roles.includes(role) ? route.cls : 'small';
}

/**
 * The JSON and HL7 v2 body parsers with the limit of the route's class (413 OperationOutcome above it), and
 * for every class but the admins' directory load a bound on the number of values in a JSON body: validation
 * (FHIR profiles, invariants) costs CPU per element, and one 9 MB Bundle of 20,000 resources held the event loop
 * (health checks included) for 7 s. `limits.jsonValues` (50,000 by default) keeps one request well under a second.
 */
export function bodyLimits(limits: Limits, directoryBodyBytes: number): RequestHandler {
  const bytes: Record<BodyClass, number> = {
    document: limits.documentBodyBytes,
    convert: limits.convertBodyBytes,
    directory: directoryBodyBytes,
    small: limits.smallBodyBytes,
  };
  const parsers = {} as Record<BodyClass, RequestHandler>;
  for (const cls of Object.keys(bytes) as BodyClass[]) {
    parsers[cls] = chain([...jsonBody(bytes[cls]), hl7Body(bytes[cls])]);
  }
  return (req: Request, res: Response, next: NextFunction): void => {
    const cls = bodyClassOf(req.method, req.path, res.locals.client?.role);
    void parsers[cls](req, res, (parseErr?: unknown) => {
      if (parseErr) {
        next(parseErr);
        return;
      }
      {
        // HL7 v2 arrives as bytes (a Buffer): its size is the byte limit's, not a count of JSON values.
        if (cls !== 'directory' && typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body)) {
          if (exceedsValues(req.body, limits.jsonValues)) {
            next(
              errors.tooLarge({
                diagnostics: `body: more than ${limits.jsonValues} JSON values (objects, array items, strings, numbers); send fewer resources or split the request`,
                reason: 'too-many-values',
              }),
            );
            return;
          }
        }
        next();
      }
    });
  };
}

/** Runs express middleware one after the other, stopping at the first error. */
function chain(handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    const step = (i: number, err?: unknown): void => {
      const handler = handlers[i];
      if (err !== undefined || !handler) {
        next(err);
        return;
      }
      void handler(req, res, (e?: unknown) => {
        step(i + 1, e);
      });
    };
    step(0);
  };
}

/** Whether a parsed JSON value holds more than `limit` values, counted without recursion and stopping early. */
export function exceedsValues(root: unknown, limit: number): boolean {
  const stack: unknown[] = [root];
  let count = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    count += 1;
    if (count > limit) {
      return true;
    }
    if (typeof value === 'object' && value !== null) {
      // One push per item: spreading a huge array into push() would overflow the argument stack.
      for (const item of Array.isArray(value) ? value : Object.values(value)) {
        stack.push(item);
      }
    }
  }
  return false;
}
