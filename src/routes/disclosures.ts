import { Router, type Request } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import type { GatewayClient } from '../auth/clients';
import { disclosureBundle, disclosuresOf, toDisclosureEntry } from '../audit/disclosure-log';
import {
  DISCLOSURE_STYLESHEET,
  DISCLOSURE_STYLESHEET_PATH,
  disclosurePage,
  organisationsNamedIn,
  orgKey,
  type Lang,
} from '../audit/disclosure-page';
import { searchConsents } from '../consent/consent-store';
import { organisationName } from '../directory/directory';
import { errors } from '../errors';
import { sendFhir } from '../http/send-fhir';
import type { Db } from '../store/db';

/** The disclosure log for admins and for the patient it is about (a citizen-portal client bound to the CPR). */
export function disclosureRoutes(db: Db): Router {
  const router = Router();
  const allowed = requireRole('admin', 'patient');

  router.get('/patients/:cpr/disclosures', allowed, async (req, res) => {
    const cpr = assertMayRead(currentClient(res), String(req.params.cpr));
    const events = await disclosuresOf(db, cpr);
    if (req.accepts(['json', 'html']) === 'html') {
      const consents = (await searchConsents(db, { patientCpr: cpr })).map((r) => r.resource);
      const names = new Map<string, string>();
      for (const id of organisationsNamedIn(events, consents)) {
        const name = await organisationName(db, id);
        if (name) {
          names.set(orgKey(id), name);
        }
      }
      const lang = pageLanguage(req);
      res.vary('Accept-Language');
      res.type('html').send(
        disclosurePage({
          events,
          consents,
          names,
          lang,
          otherLanguageHref: `?lang=${lang === 'da' ? 'en' : 'da'}`,
        }),
      );
      return;
    }
    res.json({ patient: cpr, entries: events.map(toDisclosureEntry) });
  });

  router.get('/fhir/AuditEvent', allowed, async (req, res) => {
    const patient = typeof req.query.patient === 'string' ? req.query.patient.replace(/^.*\|/, '') : undefined;
    if (!patient) {
      throw errors.invalid({
        diagnostics: 'patient: required (a CPR number, optionally urn:oid:1.2.208.176.1.2|<cpr>)',
        expression: 'patient',
      });
    }
    const cpr = assertMayRead(currentClient(res), patient);
    sendFhir(res, 200, disclosureBundle(await disclosuresOf(db, cpr)));
  });

  return router;
}

/** The page's stylesheet: public (no patient data), served before authentication so a browser can load it. */
export function disclosureAssetRoutes(): Router {
  const router = Router();
  router.get(DISCLOSURE_STYLESHEET_PATH, (_req, res) => {
    res.type('text/css').send(DISCLOSURE_STYLESHEET);
  });
  return router;
}

/** Danish unless `?lang=en` or an Accept-Language that prefers English. */
function pageLanguage(req: Request): Lang {
  const asked = typeof req.query.lang === 'string' ? req.query.lang.toLowerCase() : undefined;
  if (asked === 'da' || asked === 'en') {
    return asked;
  }
  return req.acceptsLanguages('da', 'en') === 'en' ? 'en' : 'da';
}

function assertMayRead(client: GatewayClient, cpr: string): string {
  if (!/^[0-9]{10}$/.test(cpr)) {
    throw errors.invalid({ diagnostics: 'cpr: 10 digits', expression: 'cpr' });
  }
  if (client.role === 'patient' && client.patientCpr !== cpr) {
    // The same answer as for an unknown patient: a patient learns nothing about anyone else.
    throw errors.forbidden({ diagnostics: 'a patient may read their own disclosure log only', reason: 'not-own-log' });
  }
  return cpr;
}
