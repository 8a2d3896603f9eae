import { Router } from 'express';
import { requireRole } from '../auth/authenticate';
import { importDirectoryBundle } from '../directory/import-directory';
import { assertDirectoryType, readDirectoryResource, searchDirectory } from '../directory/search-directory';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import type { Db } from '../store/db';
import { withDatabase } from '../store/unavailable';

/** The directory as a small FHIR API for admins: load with a batch/transaction Bundle, read and search. */
export function directoryRoutes(db: Db): Router {
  const router = Router();

  router.post('/fhir', requireRole('admin'), requireBody, async (req, res) => {
    sendFhir(res, 200, await withDatabase(() => importDirectoryBundle(db, req.body)));
  });

  router.get('/fhir/:type/:id', requireRole('admin'), async (req, res) => {
    const type = assertDirectoryType(String(req.params.type));
    sendFhir(res, 200, await withDatabase(() => readDirectoryResource(db, type, String(req.params.id))));
  });

  router.get('/fhir/:type', requireRole('admin'), async (req, res) => {
    const type = assertDirectoryType(String(req.params.type));
    sendFhir(res, 200, await withDatabase(() => searchDirectory(db, type, req.query)));
  });

  return router;
}
