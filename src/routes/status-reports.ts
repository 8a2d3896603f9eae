import { Router, type Request, type Response } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { errors } from '../errors';
import { inputFormat, requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import { buildTask } from '../mappers/status-report/task';
import {
  answerStatusReport,
  followUpStatusReport,
  requestStatusReport,
  transitionTask,
  visibleTask,
  type StatusReportDeps,
} from '../status-report/status-report-service';
import { searchTasks, taskDetail, workList } from '../status-report/work-list';
import { idempotencyKey, queryString } from '../http/request-values';

/** Status-report requests: native routes, and the same Tasks as FHIR (POST/GET /fhir/Task). */
export function statusReportRoutes(deps: StatusReportDeps, fhirBaseUrl: string): Router {
  const router = Router();

  const jsonFormat = (req: Request): 'native' | 'fhir' => {
    const format = inputFormat(req);
    if (format === 'hl7v2') {
      throw errors.unsupportedMediaType({
        diagnostics: 'Content-Type: status-report requests are JSON (native or FHIR)',
      });
    }
    return format;
  };
  const accepted = (res: Response, result: Awaited<ReturnType<typeof requestStatusReport>>) => {
    res.status(202).location(`/status-report-requests/${result.answer.id}`);
    if (result.replayed) {
      res.setHeader('Idempotent-Replayed', 'true');
    }
    res.json(result.answer);
  };

  router.post('/status-report-requests', requireRole('jobcentre'), requireBody, async (req, res) => {
    accepted(
      res,
      await requestStatusReport(deps, currentClient(res), {
        format: jsonFormat(req),
        body: req.body,
        idempotencyKey: idempotencyKey(req),
      }),
    );
  });
  router.post('/fhir/Task', requireRole('jobcentre'), requireBody, async (req, res) => {
    const result = await requestStatusReport(deps, currentClient(res), {
      format: 'fhir',
      body: req.body,
      idempotencyKey: idempotencyKey(req),
    });
    res.location(`/fhir/Task/${result.task.id}`);
    sendFhir(res, result.replayed ? 200 : 201, buildTask(result.task, new Date()));
  });

  router.get('/status-report-requests', requireRole('jobcentre', 'gp', 'hospital', 'admin'), async (req, res) => {
    res.json(
      await workList(deps.db, currentClient(res), {
        side: queryString(req.query.side, 'side') as 'requester' | 'addressee' | undefined,
        status: queryString(req.query.status, 'status'),
        overdue: queryString(req.query.overdue, 'overdue'),
        patient: queryString(req.query.patient, 'patient'),
        partOf: queryString(req.query['part-of'], 'part-of'),
        limit: queryString(req.query.limit, 'limit'),
        offset: queryString(req.query.offset, 'offset'),
      }),
    );
  });
  router.get('/status-report-requests/:id', requireRole('jobcentre', 'gp', 'hospital', 'admin'), async (req, res) => {
    res.json(await taskDetail(deps.db, await visibleTask(deps.db, currentClient(res), String(req.params.id))));
  });

  router.post(
    '/status-report-requests/:id/status',
    requireRole('jobcentre', 'gp', 'hospital'),
    requireBody,
    async (req, res) => {
      const task = await transitionTask(deps, currentClient(res), String(req.params.id), req.body);
      res.json(await taskDetail(deps.db, task));
    },
  );

  router.post('/status-report-requests/:id/response', requireRole('gp', 'hospital'), requireBody, async (req, res) => {
    const answer = await answerStatusReport(deps, currentClient(res), String(req.params.id), {
      format: jsonFormat(req),
      body: req.body,
    });
    res.status(202).location(`/status-report-requests/${answer.id}`).json(answer);
  });

  router.post('/status-report-requests/:id/follow-up', requireRole('jobcentre'), requireBody, async (req, res) => {
    accepted(
      res,
      await followUpStatusReport(deps, currentClient(res), String(req.params.id), req.body, idempotencyKey(req)),
    );
  });

  router.get('/fhir/Task/:id', requireRole('jobcentre', 'gp', 'hospital', 'admin'), async (req, res) => {
    sendFhir(res, 200, buildTask(await visibleTask(deps.db, currentClient(res), String(req.params.id)), new Date()));
  });
  router.get('/fhir/Task', requireRole('jobcentre', 'gp', 'hospital', 'admin'), async (req, res) => {
    const params: Record<string, string | undefined> = {};
    for (const name of ['owner', 'requester', 'status', 'patient', 'part-of', 'overdue', '_count', '_offset']) {
      params[name] = queryString(req.query[name], name);
    }
    sendFhir(res, 200, await searchTasks(deps.db, currentClient(res), params, fhirBaseUrl));
  });
  return router;
}
