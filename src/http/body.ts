import express, { type NextFunction, type Request, type Response } from 'express';
import { errors } from '../errors';
import type { InputFormat } from '../intake/submit-document';

export const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/*+json'];
/** HL7 v2 ER7 ("pipe") text: the registered-style type, and plain text when it starts with MSH. */
export const HL7_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'];

/** HL7 v2 bodies as text, up to the configured limit. */
export function hl7Body(limitBytes: number) {
  return express.text({ type: HL7_TYPES, limit: limitBytes, defaultCharset: 'utf-8' });
}

/** JSON bodies (native and FHIR) up to the configured limit. */
export function jsonBody(limitBytes: number) {
  return express.json({ type: JSON_TYPES, limit: limitBytes, strict: true });
}

/**
 * Which input a request carries: application/fhir+json is FHIR; application/json is the native format,
 * unless it plainly is a FHIR resource (integrators often send FHIR as application/json).
 */
export function inputFormat(req: Request): InputFormat {
  if (req.is(HL7_TYPES) && typeof req.body === 'string') {
    if (!/^\uFEFF?\s*(MSH|FHS|BHS)/.test(req.body)) {
      throw errors.unsupportedMediaType('body: text is taken as HL7 v2 only when it starts with an MSH segment');
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
  throw errors.unsupportedMediaType(`Content-Type: expected application/json, application/fhir+json or x-application/hl7-v2+er7, got ${req.get('content-type') ?? 'none'}`);
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
      ? errors.unsupportedMediaType(`Content-Type: expected application/json, application/fhir+json or x-application/hl7-v2+er7, got ${type}`)
      : errors.invalid({ diagnostics: 'body: a JSON body is required', expression: 'body', reason: 'missing-body' }),
  );
}
