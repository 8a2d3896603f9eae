import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { requireBody } from '../http/body';
import {
  answerMeeting,
  bookTime,
  cancelMeeting,
  listMeetings,
  proposeMeeting,
  readMeeting,
  recordPlan,
  type MeetingDeps,
} from '../planning-meetings/meeting-service';

/**
 * The planning meeting before discharge: a hospital proposes it, books a time, cancels it and records the
 * agreed plan; participants (GP, jobcentre, care manager, patient) answer with an AppointmentResponse; the
 * organiser and every invited participant read who has answered.
 */
const PARTIES = ['hospital', 'gp', 'jobcentre', 'caremanager', 'patient', 'admin'] as const;

export function planningMeetingRoutes(deps: MeetingDeps): Router {
  const router = Router();
  router.post('/planning-meetings', requireRole('hospital'), requireBody, async (req, res) => {
    const view = await proposeMeeting(deps, currentClient(res), req.body);
    res.location(`/planning-meetings/${view.id}`);
    res.status(201).json(view);
  });
  router.get('/planning-meetings', requireRole(...PARTIES), async (_req, res) => {
    res.json({ meetings: await listMeetings(deps, currentClient(res)) });
  });
  router.get('/planning-meetings/:id', requireRole(...PARTIES), async (req, res) => {
    res.json(await readMeeting(deps, currentClient(res), String(req.params.id)));
  });
  router.post(
    '/planning-meetings/:id/responses',
    requireRole('gp', 'jobcentre', 'caremanager', 'patient'),
    requireBody,
    async (req, res) => {
      res.json(await answerMeeting(deps, currentClient(res), String(req.params.id), req.body));
    },
  );
  router.post('/planning-meetings/:id/\\$book', requireRole('hospital'), requireBody, async (req, res) => {
    res.json(await bookTime(deps, currentClient(res), String(req.params.id), req.body));
  });
  router.post('/planning-meetings/:id/\\$cancel', requireRole('hospital'), async (req, res) => {
    res.json(await cancelMeeting(deps, currentClient(res), String(req.params.id)));
  });
  router.post('/planning-meetings/:id/plan', requireRole('hospital'), requireBody, async (req, res) => {
    res.json(await recordPlan(deps, currentClient(res), String(req.params.id), req.body));
  });
  return router;
}
