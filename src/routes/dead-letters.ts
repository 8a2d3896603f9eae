import { Router, type Request } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { errors, type IssueInput } from '../errors';
import type { Db } from '../store/db';
import {
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  parseDeadLetterCursor,
  replayDeadLetter,
  replayableDeadLetterIds,
  type NotApplicable,
  type OperatorAction,
} from '../store/dead-letters';
import { queryString } from '../http/request-values';
import { isUuid } from '../store/uuid';

const MAX_REASON = 500;
const MAX_IDS = 500;
/** `{"all": true}` replays at most this many per request; the answer says `more: true` when some are left. */
const MAX_ALL = 1000;

interface Skipped {
  id: string;
  why: NotApplicable['outcome'];
  status?: string;
}

/** Dead-letter operations for operators (admin): list, inspect, replay one or many, discard. */
export function deadLetterRoutes(deps: { db: Db; onRequeued: () => void }): Router {
  const router = Router();
  const admin = requireRole('admin');

  router.get('/dead-letters', admin, async (req, res) => {
    const limitText = queryString(req.query.limit, 'limit') ?? '50';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw errors.invalid({
        diagnostics: 'limit: a whole number from 1 to 500',
        expression: 'limit',
        reason: 'invalid-value',
      });
    }
    const before = queryString(req.query.before, 'before');
    if (before !== undefined && !parseDeadLetterCursor(before)) {
      throw errors.invalid({
        diagnostics: 'before: the "next" cursor of the previous page, or an ISO 8601 instant',
        expression: 'before',
        reason: 'invalid-value',
      });
    }
    const kind = queryString(req.query.kind, 'kind');
    if (kind !== undefined && (kind.length === 0 || kind.length > 100)) {
      throw errors.invalid({
        diagnostics: 'kind: 1 to 100 characters, e.g. discharge-letter',
        expression: 'kind',
        reason: 'invalid-value',
      });
    }
    res.json(await listDeadLetters(deps.db, { limit, before, kind }));
  });

  router.post('/dead-letters/\\$replay', admin, async (req, res) => {
    const body = bodyObject(req.body, ['deliveryIds', 'all', 'kind', 'reason']);
    const reason = reasonOf(body);
    const action: OperatorAction = { clientId: currentClient(res).id, reason };
    let ids: string[];
    let more = false;
    if (body.all !== undefined) {
      if (body.deliveryIds !== undefined) {
        throw errors.invalid({
          diagnostics: 'all: give either deliveryIds or all, not both',
          expression: 'all',
          reason: 'invalid-value',
        });
      }
      if (body.all !== true) {
        throw errors.invalid({
          diagnostics: 'all: must be true (or leave it out and list deliveryIds)',
          expression: 'all',
          reason: 'invalid-value',
        });
      }
      const kind = body.kind;
      if (kind !== undefined && (typeof kind !== 'string' || kind.length === 0 || kind.length > 100)) {
        throw errors.invalid({
          diagnostics: 'kind: 1 to 100 characters, e.g. discharge-letter',
          expression: 'kind',
          reason: 'invalid-value',
        });
      }
      ids = await replayableDeadLetterIds(deps.db, { kind, limit: MAX_ALL + 1 });
      more = ids.length > MAX_ALL;
      ids = ids.slice(0, MAX_ALL);
    } else {
      if (body.kind !== undefined) {
        throw errors.invalid({
          diagnostics: 'kind: only with "all": true; listed deliveryIds are replayed whatever their kind',
          expression: 'kind',
          reason: 'invalid-value',
        });
      }
      ids = deliveryIdsOf(body.deliveryIds);
    }

    let replayed = 0;
    const skipped: Skipped[] = [];
    try {
      for (const id of ids) {
        // One transaction per delivery: one that cannot be replayed does not hold up the others.
        const result = await deps.db.transaction((tx) => replayDeadLetter(tx, id, action));
        if (result.outcome === 'replayed') {
          replayed += 1;
        } else {
          skipped.push({
            id,
            why: result.outcome,
            ...(result.outcome === 'not-a-dead-letter' ? { status: result.status } : {}),
          });
        }
      }
    } finally {
      if (replayed > 0) {
        deps.onRequeued();
      }
    }
    res.status(202).json({ replayed, skipped, ...(more ? { more: true } : {}) });
  });

  router.get('/dead-letters/:deliveryId', admin, async (req, res) => {
    const id = deliveryIdParam(req);
    const found = await getDeadLetter(deps.db, id);
    if (!found) {
      throw errors.notFound({
        diagnostics: `deliveryId: no dead letter with delivery id ${id} (only dead and failed deliveries are dead letters)`,
      });
    }
    res.json(found);
  });

  router.post('/dead-letters/:deliveryId/\\$replay', admin, async (req, res) => {
    const id = deliveryIdParam(req);
    const reason = reasonOf(bodyObject(req.body, ['reason']));
    const result = await deps.db.transaction((tx) =>
      replayDeadLetter(tx, id, { clientId: currentClient(res).id, reason }),
    );
    if (result.outcome !== 'replayed') {
      throw notApplicable(id, result, 'replayed');
    }
    deps.onRequeued();
    res.status(202).location(`/messages/${result.delivery.messageId}`).json(result.delivery);
  });

  router.post('/dead-letters/:deliveryId/\\$discard', admin, async (req, res) => {
    const id = deliveryIdParam(req);
    const reason = reasonOf(bodyObject(req.body, ['reason']));
    const result = await deps.db.transaction((tx) =>
      discardDeadLetter(tx, id, { clientId: currentClient(res).id, reason }),
    );
    if (result.outcome !== 'discarded-now') {
      throw notApplicable(id, result, 'discarded');
    }
    res.status(200).json(result.deadLetter);
  });

  return router;
}

function notApplicable(id: string, result: NotApplicable, verb: 'replayed' | 'discarded'): Error {
  switch (result.outcome) {
    case 'not-found':
      return errors.notFound({ diagnostics: `deliveryId: no delivery ${id}` });
    case 'not-a-dead-letter':
      return errors.conflict({
        diagnostics: `deliveryId: delivery ${id} is ${result.status}; only a dead or failed delivery can be ${verb}`,
      });
    case 'discarded':
      return errors.conflict({
        diagnostics: `deliveryId: delivery ${id} was discarded; it can be neither replayed nor discarded again`,
      });
  }
}

function deliveryIdParam(req: Request): string {
  const id = String(req.params.deliveryId);
  if (!isUuid(id)) {
    throw errors.notFound({ diagnostics: `deliveryId: no delivery ${id} (delivery ids are UUIDs)` });
  }
  return id.toLowerCase();
}

function bodyObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined) {
    return {};
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.invalid({
      diagnostics: 'body: a JSON object, e.g. {"reason": "the GP system is back"}',
      expression: 'body',
      reason: 'invalid-value',
    });
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw errors.invalid(
      ...unknown.map(
        (k): IssueInput => ({
          diagnostics: `unknown field '${k}' (allowed: ${allowed.join(', ')})`,
          expression: k,
          reason: 'unknown-field',
        }),
      ),
    );
  }
  return body as Record<string, unknown>;
}

function reasonOf(body: Record<string, unknown>): string {
  const reason = body.reason;
  if (reason === undefined) {
    throw errors.invalid({
      diagnostics: `reason: required, 1 to ${MAX_REASON} characters saying why (it goes into the audit log)`,
      expression: 'reason',
      reason: 'missing-field',
    });
  }
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (text.length === 0 || text.length > MAX_REASON) {
    throw errors.invalid({
      diagnostics: `reason: text of 1 to ${MAX_REASON} characters`,
      expression: 'reason',
      reason: 'invalid-value',
    });
  }
  return text;
}

function deliveryIdsOf(value: unknown): string[] {
  if (value === undefined) {
    throw errors.invalid({
      diagnostics: 'deliveryIds: required (a list of delivery ids), or give "all": true',
      expression: 'deliveryIds',
      reason: 'missing-field',
    });
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDS) {
    throw errors.invalid({
      diagnostics: `deliveryIds: a list of 1 to ${MAX_IDS} delivery ids`,
      expression: 'deliveryIds',
      reason: 'invalid-value',
    });
  }
  const bad = value.flatMap((v: unknown, i) => (typeof v === 'string' && isUuid(v) ? [] : [i]));
  if (bad.length > 0) {
    throw errors.invalid(
      ...bad.slice(0, 30).map(
        (i): IssueInput => ({
          diagnostics: `deliveryIds[${i}]: a delivery id (UUID)`,
          expression: `deliveryIds[${i}]`,
          reason: 'invalid-value',
        }),
      ),
    );
  }
  return [...new Set((value as string[]).map((v) => v.toLowerCase()))];
}
