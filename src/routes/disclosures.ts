import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import type { GatewayClient } from '../auth/clients';
import { disclosureBundle, disclosureHtml, disclosuresOf, toDisclosureEntry } from '../audit/disclosure-log';
import { errors } from '../errors';
import { sendFhir } from '../http/send-fhir';
import type { Db } from '../store/db';
import { withDatabase } from '../store/unavailable';

/** The disclosure log for admins and for the patient it is about (a citizen-portal client bound to the CPR). */
export function disclosureRoutes(db: Db): Router {
  const router = Router();
  const allowed = requireRole('admin', 'patient');

  router.get('/patients/:cpr/disclosures', allowed, async (req, res) => {
    const cpr = assertMayRead(currentClient(res), String(req.params.cpr));
    const entries = (await withDatabase(() => disclosuresOf(db, cpr))).map(toDisclosureEntry);
    if (req.accepts(['json', 'html']) === 'html') {
      res.type('html').send(disclosureHtml(entries));
      return;
    }
    res.json({ patient: cpr, entries });
  });

  router.get('/fhir/AuditEvent', allowed, async (req, res) => {
    const patient = typeof req.query.patient === 'string' ? req.query.patient.replace(/^.*\|/, '') : undefined;
    if (!patient) {
      throw errors.invalid({ diagnostics: 'patient: required (a CPR number, optionally urn:oid:1.2.208.176.1.2|<cpr>)', expression: 'patient' });
    }
    const cpr = assertMayRead(currentClient(res), patient);
    sendFhir(res, 200, disclosureBundle(await withDatabase(() => disclosuresOf(db, cpr))));
  });

  return router;
}

function assertMayRead(client: GatewayClient, cpr: string): string {
  if (!/^[0-9]{10}$/.test(cpr)) {
    throw errors.invalid({ diagnostics: 'cpr: 10 digits', expression: 'cpr' });
  }
  if (client.role === 'patient' && client.patientCpr !== cpr) {
    // The same answer as for an unknown patient: a patient learns nothing about anyone else.
    throw errors.forbidden('a patient may read their own disclosure log only', 'not-own-log');
  }
  return cpr;
}
