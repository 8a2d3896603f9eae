import type { Response } from 'express';
import { stringifyJson } from '../json/json-text';

/** Sends a FHIR resource as application/fhir+json, numbers as they were written (json-text.ts). */
export function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/fhir+json').send(stringifyJson(body));
}
