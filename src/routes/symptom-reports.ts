import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { errors } from '../errors';
import { requireBody } from '../http/body';
import { idempotencyKey } from '../http/request-values';
import { sendFhir } from '../http/send-fhir';
import { isUuid } from '../store/uuid';
import { acknowledgeAlert, alertPatient } from '../symptom-reports/symptom-report-store';
import {
  ownHistory,
  setPaused,
  submitSymptomReport,
  type SymptomReportDeps,
} from '../symptom-reports/symptom-report-service';
import { careTeamsInForce } from '../care-team/care-team-store';

/**
 * The patient's symptom reports: POST a PHQ-9 QuestionnaireResponse (201 with the score, the rules that fired,
 * who was alerted and, on a self-harm answer, who to call now), GET the own history, pause and resume
 * monitoring. A care manager acknowledges an open alert of a patient in their care.
 */
export function symptomReportRoutes(deps: SymptomReportDeps): Router {
  const router = Router();
  router.post('/symptom-reports', requireRole('patient'), requireBody, async (req, res) => {
    const { result, replayed } = await submitSymptomReport(deps, currentClient(res), req.body, idempotencyKey(req));
    res.location(`/symptom-reports/${result.id}`);
    if (replayed) {
      res.setHeader('Idempotent-Replayed', 'true');
    }
    res.status(201).json(result);
  });
  router.get('/symptom-reports', requireRole('patient'), async (_req, res) => {
    res.json(await ownHistory(deps, currentClient(res)));
  });
  router.post('/symptom-reports/\\$pause', requireRole('patient'), async (_req, res) => {
    res.json(await setPaused(deps, currentClient(res), true));
  });
  router.post('/symptom-reports/\\$resume', requireRole('patient'), async (_req, res) => {
    res.json(await setPaused(deps, currentClient(res), false));
  });
  router.post('/care-manager/alerts/:id/\\$acknowledge', requireRole('caremanager'), async (req, res) => {
    const client = currentClient(res);
    const id = String(req.params.id);
    const cpr = isUuid(id) ? await alertPatient(deps.db, id) : undefined;
    const inCare = cpr
      ? (await careTeamsInForce(deps.db, cpr, new Date())).some(
          (t) => t.manager_system === client.organization.system && t.manager_value === client.organization.value,
        )
      : false;
    // Another team's alert is answered like an unknown one.
    if (!inCare || !(await acknowledgeAlert(deps.db, id, client.id))) {
      throw errors.notFound({ diagnostics: `alert ${id}: no open alert of a patient in your care` });
    }
    sendFhir(res, 200, { id, status: 'acknowledged' });
  });
  return router;
}
