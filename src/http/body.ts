import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { errors } from '../errors';
import type { InputFormat } from '../intake/submit-document';
import { JsonInputError, parseJsonText, withPlainNumbers } from '../json/json-text';

export const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];
/** HL7 v2 ER7 ("pipe") text: the registered-style type, and plain text when it starts with MSH. */
export const HL7_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'];

/**
 * HL7 v2 bodies as bytes, up to the configured limit: the message's MSH-18 says how they become text
 * (src/intake/hl7-intake.ts), not the Content-Type's charset, which is only a fallback for a missing MSH-18.
 */
export function hl7Body(limitBytes: number) {
  return express.raw({ type: HL7_TYPES, limit: limitBytes });
}

/** Whether bytes start like HL7 v2 (MSH, FHS or BHS), after a byte order mark, blanks, or in UTF-16/32. */
export function looksLikeHl7(bytes: Buffer): boolean {
  const head = bytes
    .subarray(0, 64)
    .toString('latin1')
    .replaceAll('\u0000', '')
    .replace(/^(\u00ef\u00bb\u00bf|\u00fe\u00ff|\u00ff\u00fe)/, '');
  return /^\s*(MSH|FHS|BHS)/.test(head);
}

/**
 * JSON bodies (native and FHIR) up to the configured limit, read as text and parsed by parseJsonText: nesting
 * depth, duplicate and forbidden property names and blank strings are checked on the text before anything
 * walks the body (a 400 naming the JSON path), and the body must be a JSON object. A FHIR resource (an object
 * with a string resourceType) keeps its numbers as written (decimal precision); a native body gets plain numbers.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    express.text({ type: JSON_TYPES, limit: limitBytes, defaultCharset: 'utf-8' }),
    (req: Request, _res: Response, next: NextFunction) => {
      if (typeof req.body !== 'string' || !req.is(JSON_TYPES)) {
        next();
        return;
      }
      try {
        req.body = readJsonBody(req.body);
        next();
      } catch (e) {
        next(e);
      }
    },
  ];
}

/** A JSON request body as the routes see it; an empty body is `{}` (as express.json had it). */
export function readJsonBody(text: string): unknown {
  if (text.trim() === '') {
    return {};
  }
  let body: unknown;
  try {
    body = parseJsonText(text);
  } catch (e) {
    if (e instanceof JsonInputError) {
      throw errors.invalid({
        diagnostics: e.reason === 'malformed-json' ? `body: ${e.message}` : e.message,
        expression: e.path === '(root)' ? 'body' : e.path,
        reason: e.reason,
      });
    }
    throw e;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.invalid({
      diagnostics: `body: expected a JSON object, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`,
      expression: 'body',
      reason: 'malformed-json',
    });
  }
  return typeof (body as { resourceType?: unknown }).resourceType === 'string' ? body : withPlainNumbers(body);
}

/**
 * Which input a request carries: application/fhir+json is FHIR; application/json is the native format,
 * unless it plainly is a FHIR resource (integrators often send FHIR as application/json).
 */
export function inputFormat(req: Request): InputFormat {
  if (req.is(HL7_TYPES) && Buffer.isBuffer(req.body)) {
    if (!looksLikeHl7(req.body)) {
      // Declared HL7 v2 that is not: a malformed message (400). Plain text that is not HL7 is another type (415).
      if (req.is(HL7_TYPES.filter((t) => t !== 'text/plain'))) {
        throw errors.invalid({
          diagnostics: 'body: an HL7 v2 message starts with an MSH segment (or FHS/BHS for a batch)',
          expression: 'MSH',
          reason: 'malformed-hl7',
        });
      }
      throw errors.unsupportedMediaType({
        diagnostics: 'body: text is taken as HL7 v2 only when it starts with an MSH segment',
      });
    }
    return 'hl7v2';
  }
  if (req.is('application/fhir+json')) {
    return 'fhir';
  }
  if (req.is('application/json')) {
    const body = req.body as { resourceType?: unknown } | undefined;
    return typeof body?.resourceType === 'string' ? 'fhir' : 'native';
  }
  throw errors.unsupportedMediaType({
    diagnostics: `Content-Type: expected application/json, application/fhir+json or x-application/hl7-v2+er7, got ${req.get('content-type') ?? 'none'}`,
  });
}

/** A route with a body needs one of the types it takes (JSON or HL7 v2 text): 415 for another, 400 for none. */
export function requireBody(req: Request, _res: Response, next: NextFunction): void {
  if (req.body !== undefined) {
    next();
    return;
  }
  const type = req.get('content-type');
  next(
    type && !req.is([...JSON_TYPES, ...HL7_TYPES])
      ? errors.unsupportedMediaType({
          diagnostics: `Content-Type: expected application/json, application/fhir+json or x-application/hl7-v2+er7, got ${type}`,
        })
      : errors.invalid({ diagnostics: 'body: a JSON body is required', expression: 'body', reason: 'missing-body' }),
  );
}
