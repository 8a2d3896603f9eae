import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import {
  careManagerWorkList,
  createCareTeam,
  readCareTeamFor,
  type CareTeamDeps,
} from '../care-team/care-team-service';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';

/**
 * Care teams after discharge: a hospital records one (POST /fhir/CareTeam, naming the care manager for a
 * period); the parties read it; the care manager's work list of patients now in their care.
 */
export function careTeamRoutes(deps: CareTeamDeps): Router {
  const router = Router();
  router.post('/fhir/CareTeam', requireRole('hospital', 'admin'), requireBody, async (req, res) => {
    const team = await createCareTeam(deps, currentClient(res), req.body);
    res.location(`/fhir/CareTeam/${team.id ?? ''}`);
    sendFhir(res, 201, team);
  });
  router.get('/fhir/CareTeam/:id', requireRole('hospital', 'caremanager', 'patient', 'admin'), async (req, res) => {
    sendFhir(res, 200, await readCareTeamFor(deps, currentClient(res), String(req.params.id)));
  });
  router.get('/care-manager/patients', requireRole('caremanager'), async (_req, res) => {
    res.json({ patients: await careManagerWorkList(deps, currentClient(res)) });
  });
  return router;
}
