import { Router } from 'express';
import { requireRole } from '../auth/authenticate';
import { importDirectoryBundle } from '../directory/import-directory';
import { assertDirectoryType, readDirectoryResource, searchDirectory } from '../directory/search-directory';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import type { OutboundPolicy } from '../outbound/address-policy';
import type { Db } from '../store/db';
import type { FhirValidator } from '../validation/fhir-validator';

/** The directory as a small FHIR API for admins: load with a batch/transaction Bundle (reads: directoryReadRoutes). */
export function directoryRoutes(db: Db, outbound?: OutboundPolicy, validator?: FhirValidator): Router {
  const router = Router();

  router.post('/fhir', requireRole('admin'), requireBody, async (req, res) => {
    sendFhir(res, 200, await importDirectoryBundle(db, req.body, outbound, validator));
  });

  return router;
}

/**
 * The admin's generic FHIR reads of the directory: GET /fhir/:type and /fhir/:type/:id. They match every
 * resource type, so app.ts mounts them only in finishApp(), after every specific route: a type a specific
 * route serves (Task, Consent, Subscription...) never reaches them (test/integration/fhir-routes.test.ts).
 */
export function directoryReadRoutes(db: Db): Router {
  const router = Router();

  router.get('/fhir/:type/:id', requireRole('admin'), async (req, res) => {
    const type = assertDirectoryType(String(req.params.type));
    sendFhir(res, 200, await readDirectoryResource(db, type, String(req.params.id)));
  });

  router.get('/fhir/:type', requireRole('admin'), async (req, res) => {
    const type = assertDirectoryType(String(req.params.type));
    sendFhir(res, 200, await searchDirectory(db, type, req.query));
  });

  return router;
}
