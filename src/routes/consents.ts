import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import {
  consentHistory,
  consentVersion,
  createConsent,
  findConsents,
  readConsent,
  replaceConsent,
  withdrawConsent,
  type ConsentDeps,
} from '../consent/consent-service';
import { errors } from '../errors';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';

/**
 * FHIR Consent records: POST, GET (read and search), PUT, DELETE (= withdraw, the record stays), and the
 * versions: GET _history (a history Bundle) and _history/{vid}. `baseUrl` is the FHIR base for fullUrl.
 */
export function consentRoutes(deps: ConsentDeps, baseUrl: string): Router {
  const router = Router();
  const roles = requireRole('admin', 'patient', 'hospital', 'gp', 'jobcentre');

  router.post('/fhir/Consent', roles, requireBody, async (req, res) => {
    const consent = await createConsent(deps, currentClient(res), req.body);
    res.location(`/fhir/Consent/${consent.id ?? ''}`);
    sendFhir(res, 201, consent);
  });
  router.get('/fhir/Consent/:id', roles, async (req, res) => {
    sendFhir(res, 200, (await readConsent(deps, currentClient(res), String(req.params.id))).resource);
  });
  router.get('/fhir/Consent/:id/_history', roles, async (req, res) => {
    sendFhir(res, 200, await consentHistory(deps, currentClient(res), String(req.params.id), baseUrl));
  });
  router.get('/fhir/Consent/:id/_history/:vid', roles, async (req, res) => {
    const consent = await consentVersion(deps, currentClient(res), String(req.params.id), String(req.params.vid));
    res.set('ETag', `W/"${consent.meta?.versionId ?? ''}"`);
    sendFhir(res, 200, consent);
  });
  router.put('/fhir/Consent/:id', roles, requireBody, async (req, res) => {
    sendFhir(res, 200, await replaceConsent(deps, currentClient(res), String(req.params.id), req.body));
  });
  router.delete('/fhir/Consent/:id', roles, async (req, res) => {
    sendFhir(res, 200, await withdrawConsent(deps, currentClient(res), String(req.params.id)));
  });
  router.get('/fhir/Consent', roles, async (req, res) => {
    const q = (name: string) => {
      const v = req.query[name];
      if (v !== undefined && typeof v !== 'string') {
        throw errors.invalid({ diagnostics: `${name}: give it once`, expression: name });
      }
      return v;
    };
    sendFhir(
      res,
      200,
      await findConsents(deps, currentClient(res), { patient: q('patient'), status: q('status'), actor: q('actor') }),
    );
  });
  return router;
}
