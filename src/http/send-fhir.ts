import type { Response } from 'express';

/** Sends a FHIR resource as application/fhir+json. */
export function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(body));
}
