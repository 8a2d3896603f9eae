import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { errors } from '../errors';
import type { Db } from '../store/db';
import { getMessageTracking, listMessages, type MessageStatus } from '../store/messages';
import { withDatabase } from '../store/unavailable';
import { isUuid } from '../store/uuid';
import { queryString } from '../http/request-values';

const STATUSES: readonly MessageStatus[] = ['accepted', 'queued', 'delivered', 'failed', 'dead', 'blocked'];

/** Tracking: the sender follows its own messages; operators (admin) list and read all. */
export function messageRoutes(db: Db): Router {
  const router = Router();

  router.get('/messages/:id', async (req, res) => {
    const client = currentClient(res);
    const id = req.params.id;
    const tracking = isUuid(id) ? await withDatabase(() => getMessageTracking(db, id)) : undefined;
    // Another client's message is reported as absent, not forbidden: its existence is not theirs to know.
    if (!tracking || (client.role !== 'admin' && tracking.sender.clientId !== client.id)) {
      throw errors.notFound(`message ${id} not found`);
    }
    res.json(tracking);
  });

  router.get('/messages', requireRole('admin'), async (req, res) => {
    const status = queryString(req.query.status, 'status');
    if (status !== undefined && !STATUSES.includes(status as MessageStatus)) {
      throw errors.invalid({ diagnostics: `status: must be one of ${STATUSES.join(', ')}`, expression: 'status' });
    }
    const limitText = queryString(req.query.limit, 'limit') ?? '50';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw errors.invalid({ diagnostics: 'limit: a whole number from 1 to 500', expression: 'limit' });
    }
    const before = queryString(req.query.before, 'before');
    if (before !== undefined && Number.isNaN(Date.parse(before))) {
      throw errors.invalid({ diagnostics: 'before: an ISO 8601 instant (the "next" cursor of the previous page)', expression: 'before' });
    }
    const kind = queryString(req.query.kind, 'kind');
    res.json(await withDatabase(() => listMessages(db, { status: status as MessageStatus | undefined, kind, limit, before })));
  });

  return router;
}
