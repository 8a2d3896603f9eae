import type { Queue } from 'bullmq';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import {
  deadLettersPage,
  MESSAGE_STATUSES,
  messagePage,
  messagesPage,
  overviewPage,
  type Notice,
} from '../console/console-pages';
import {
  deliveriesByRecipient,
  endpointHealth,
  maskedPatientOf,
  messagesByKind,
  queueDepths,
  recentMessages,
  recipientFlows,
  subscriptionHealth,
  waitingDeadLetters,
} from '../console/console-stats';
import { careConsoleData, careConsolePage } from '../console/care-console';
import { GatewayError, errors } from '../errors';
import { queryString } from '../http/request-values';
import type { Db } from '../store/db';
import {
  discardDeadLetter,
  listDeadLetters,
  parseDeadLetterCursor,
  replayDeadLetter,
  type DiscardResult,
  type NotApplicable,
  type ReplayResult,
} from '../store/dead-letters';
import type { MessageStatus } from '../store/messages';
import { isUuid } from '../store/uuid';
import { trafficItem } from '../tracking/traffic';

export interface ConsoleDeps {
  db: Db;
  queues: readonly Queue[];
  /** Replayed work: wake the outbox relay. */
  onRequeued: () => void;
  /** Where recipients read Bundles (`{fhirBase}/Bundle/{deliveryId}`), as in the tracking API. */
  fhirBase: string;
}

const MAX_REASON = 500;

/**
 * The console's form bodies (application/x-www-form-urlencoded, at most 4 kB, a few fields). Mount it on
 * `/console`; the CSRF check reads headers (Sec-Fetch-Site, Origin), not the forms' `_csrf` field.
 */
export function consoleForms(): RequestHandler {
  return express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
}

/**
 * The operator console (admin): an overview (traffic in the last hour per kind and recipient, endpoints'
 * success rate and time to deliver, queue depth, subscription health), the newest messages with each
 * delivery's timeline, and the dead letters with replay and discard. Server-rendered HTML without script.
 * Replay and discard are the dead-letter API's own operations (src/store/dead-letters), so they take a
 * reason and write the same AuditEvent naming the operator; a state-changing request passes the session's
 * CSRF check first (src/auth/operator-session). Mount behind `requireOperator()`.
 */
export function consoleRoutes(deps: ConsoleDeps): Router {
  const router = Router();
  const admin = requireRole('admin');
  const csrf = (res: Response) => res.locals.operatorSession?.csrfToken;

  router.get('/console', admin, async (_req, res) => {
    const db = deps.db;
    const [byKind, byRecipient, recipients, endpoints, subscriptions, deadLetterCount] = await Promise.all([
      messagesByKind(db),
      deliveriesByRecipient(db),
      recipientFlows(db),
      endpointHealth(db),
      subscriptionHealth(db),
      waitingDeadLetters(db),
    ]);
    const queues = await queueDepths(deps.queues);
    sendHtml(
      res,
      200,
      overviewPage(
        { now: new Date(), byKind, byRecipient, recipients, endpoints, queues, subscriptions, deadLetterCount },
        csrf(res),
      ),
    );
  });

  router.get('/console/messages', admin, async (req, res) => {
    const status = queryString(req.query.status, 'status') || undefined;
    if (status !== undefined && !(MESSAGE_STATUSES as readonly string[]).includes(status)) {
      throw errors.invalid({
        diagnostics: `status: one of ${MESSAGE_STATUSES.join(', ')}`,
        expression: 'status',
        reason: 'invalid-value',
      });
    }
    const rows = await recentMessages(deps.db, { limit: 100, status: status as MessageStatus | undefined });
    sendHtml(res, 200, messagesPage(rows, status, csrf(res)));
  });

  router.get('/console/messages/:id', admin, async (req, res) => {
    const id = String(req.params.id);
    const item = isUuid(id)
      ? await trafficItem(deps.db, { kind: 'admin' }, id.toLowerCase(), deps.fhirBase)
      : undefined;
    if (!item) {
      throw errors.notFound({ diagnostics: `id: no message ${id}` });
    }
    const patient = await maskedPatientOf(deps.db, item.id);
    sendHtml(res, 200, messagePage(item, patient, csrf(res)));
  });

  router.get('/console/care', admin, async (_req, res) => {
    sendHtml(res, 200, careConsolePage(await careConsoleData(deps.db), csrf(res)));
  });

  router.get('/console/dead-letters', admin, async (req, res) => {
    const before = queryString(req.query.before, 'before');
    if (before !== undefined && !parseDeadLetterCursor(before)) {
      throw errors.invalid({
        diagnostics: 'before: the cursor of the "Older dead letters" link, or an ISO 8601 instant',
        expression: 'before',
        reason: 'invalid-value',
      });
    }
    await renderDeadLetters(res, 200, before, noticeOf(req));
  });

  router.post('/console/dead-letters/:deliveryId/replay', admin, async (req, res) => {
    await act(req, res, 'replay');
  });

  router.post('/console/dead-letters/:deliveryId/discard', admin, async (req, res) => {
    await act(req, res, 'discard');
  });

  async function renderDeadLetters(res: Response, status: number, before?: string, notice?: Notice): Promise<void> {
    const page = await listDeadLetters(deps.db, { limit: 100, before });
    sendHtml(res, status, deadLettersPage(page.items, page.next, csrf(res), notice));
  }

  /** Replays or discards one dead letter; a browser gets the list again with what happened, an API client JSON. */
  async function act(req: Request, res: Response, verb: 'replay' | 'discard'): Promise<void> {
    const id = String(req.params.deliveryId);
    const browser = req.accepts(['application/json', 'application/fhir+json', 'text/html']) === 'text/html';
    try {
      if (!isUuid(id)) {
        throw errors.notFound({ diagnostics: `deliveryId: no delivery ${id} (delivery ids are UUIDs)` });
      }
      const deliveryId = id.toLowerCase();
      const action = { clientId: currentClient(res).id, reason: reasonOf(req.body) };
      const result = await deps.db.transaction<ReplayResult | DiscardResult>((tx) =>
        verb === 'replay' ? replayDeadLetter(tx, deliveryId, action) : discardDeadLetter(tx, deliveryId, action),
      );
      if (result.outcome !== 'replayed' && result.outcome !== 'discarded-now') {
        throw notApplicable(deliveryId, result, verb);
      }
      if (result.outcome === 'replayed') {
        deps.onRequeued();
      }
      if (!browser) {
        res
          .status(verb === 'replay' ? 202 : 200)
          .json(result.outcome === 'replayed' ? result.delivery : result.deadLetter);
        return;
      }
      // Post/Redirect/Get: a reload does not send the form again.
      res.redirect(303, `/console/dead-letters?done=${verb === 'replay' ? 'replayed' : 'discarded'}&id=${deliveryId}`);
    } catch (e) {
      if (!browser || !(e instanceof GatewayError) || e.status >= 500) {
        throw e;
      }
      const text = e.outcome.issue.map((i) => i.diagnostics ?? '').join('; ');
      await renderDeadLetters(res, e.status, undefined, {
        kind: 'alert',
        text: `Not ${verb === 'replay' ? 'replayed' : 'discarded'}: ${text}`,
      });
    }
  }

  return router;
}

/** What the redirect after an action reports (ids checked, so nothing but a UUID is echoed). */
function noticeOf(req: Request): Notice | undefined {
  const done = queryString(req.query.done, 'done');
  const id = queryString(req.query.id, 'id');
  if (!id || !isUuid(id)) {
    return undefined;
  }
  if (done === 'replayed') {
    return { kind: 'notice', text: `Delivery ${id} was replayed: it is queued again with a fresh retry budget.` };
  }
  if (done === 'discarded') {
    return { kind: 'notice', text: `Delivery ${id} was discarded.` };
  }
  return undefined;
}

function reasonOf(body: unknown): string {
  const reason = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).reason : undefined;
  if (reason === undefined || (typeof reason === 'string' && reason.trim() === '')) {
    throw errors.invalid({
      diagnostics: `reason: required, 1 to ${MAX_REASON} characters saying why (it goes into the audit log)`,
      expression: 'reason',
      reason: 'missing-field',
    });
  }
  const text = typeof reason === 'string' ? reason.trim() : '';
  // eslint-disable-next-line no-control-regex
  if (text.length === 0 || text.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(text)) {
    throw errors.invalid({
      diagnostics: `reason: text of 1 to ${MAX_REASON} characters, without control characters`,
      expression: 'reason',
      reason: 'invalid-value',
    });
  }
  return text;
}

function notApplicable(id: string, result: NotApplicable, verb: 'replay' | 'discard'): Error {
  const done = verb === 'replay' ? 'replayed' : 'discarded';
  switch (result.outcome) {
    case 'not-found':
      return errors.notFound({ diagnostics: `deliveryId: no delivery ${id}` });
    case 'not-a-dead-letter':
      return errors.conflict({
        diagnostics: `deliveryId: delivery ${id} is ${result.status}; only a dead or failed delivery can be ${done}`,
      });
    case 'discarded':
      return errors.conflict({
        diagnostics: `deliveryId: delivery ${id} was discarded; it can be neither replayed nor discarded again`,
      });
  }
}

function sendHtml(res: Response, status: number, html: string): void {
  res.status(status).type('html').send(html);
}
