import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import type { GatewayClient } from '../auth/clients';
import { errors } from '../errors';
import type { Db } from '../store/db';
import { getMessageTracking, type MessageStatus } from '../store/messages';
import { isUuid } from '../store/uuid';
import { queryString } from '../http/request-values';
import {
  decodeCursor,
  listTraffic,
  trafficItem,
  type TrafficQuery,
  type TrafficSide,
  type TrafficViewer,
} from '../tracking/traffic';

const STATUSES: readonly MessageStatus[] = ['accepted', 'queued', 'delivered', 'failed', 'dead', 'blocked'];
const SIDES: readonly TrafficSide[] = ['sent', 'received'];

/**
 * Tracking: every organisation sees its own traffic, sent (by its client) and received (addressed to its
 * organisation), with each delivery's timeline; operators (admin) list and read all. `fhirBase` is where
 * a recipient reads the exact Bundle it received (`{fhirBase}/Bundle/{deliveryId}`).
 */
export function messageRoutes(db: Db, fhirBase: string): Router {
  const router = Router();

  router.get('/messages/:id', async (req, res) => {
    const client = currentClient(res);
    const id = req.params.id;
    const viewer = viewerOf(client);
    const item = isUuid(id) ? await trafficItem(db, viewer, id, fhirBase) : undefined;
    // Another client's message is reported as absent, not forbidden: its existence is not theirs to know.
    if (!item) {
      throw errors.notFound({ diagnostics: `message ${id} not found` });
    }
    const isSender = client.role === 'admin' || item.sender.clientId === client.id;
    const tracking = isSender ? await getMessageTracking(db, id) : undefined;
    if (!tracking) {
      // A recipient: its own deliveries only, without the sender's intake outcome or endpoints.
      res.json(item);
      return;
    }
    res.json({
      ...tracking,
      deliveries: tracking.deliveries.map((d) => {
        const more = item.deliveries.find((x) => x.id === d.id);
        return {
          ...d,
          recipient: { ...d.recipient, system: more?.recipient.system },
          ...(more?.bundle ? { bundle: more.bundle } : {}),
          timeline: more?.timeline ?? [],
        };
      }),
    });
  });

  router.get(
    '/messages',
    requireRole('hospital', 'gp', 'jobcentre', 'employer', 'caremanager', 'admin'),
    async (req, res) => {
      const client = currentClient(res);
      const query = trafficQuery(req.query, client);
      res.json(await listTraffic(db, viewerOf(client), query, fhirBase));
    },
  );

  return router;
}

function viewerOf(client: GatewayClient): TrafficViewer {
  return client.role === 'admin'
    ? { kind: 'admin' }
    : { kind: 'party', clientId: client.id, organization: client.organization };
}

/** The list's query parameters, checked: a bad one is a 400 naming it. */
function trafficQuery(query: Record<string, unknown>, client: GatewayClient): TrafficQuery {
  const side = queryString(query.side, 'side');
  if (side !== undefined && !SIDES.includes(side as TrafficSide)) {
    throw errors.invalid({ diagnostics: 'side: sent or received', expression: 'side' });
  }
  if (side === undefined && client.role !== 'admin') {
    throw errors.invalid({
      diagnostics: 'side: required; sent (what your client sent) or received (what was addressed to your organisation)',
      expression: 'side',
      reason: 'missing-field',
    });
  }
  const status = queryString(query.status, 'status');
  if (status !== undefined && !STATUSES.includes(status as MessageStatus)) {
    throw errors.invalid({ diagnostics: `status: must be one of ${STATUSES.join(', ')}`, expression: 'status' });
  }
  // `limit` is the older name of `_count`.
  const countName = query._count !== undefined ? '_count' : 'limit';
  const countText = queryString(query[countName], countName) ?? '50';
  const count = Number(countText);
  if (!/^[0-9]+$/.test(countText) || count < 1 || count > 500) {
    throw errors.invalid({ diagnostics: `${countName}: a whole number from 1 to 500`, expression: countName });
  }
  const patient = queryString(query.patient, 'patient')?.replace(/^urn:oid:1\.2\.208\.176\.1\.2\|/, '');
  if (patient !== undefined && !/^[0-9]{10}$/.test(patient)) {
    throw errors.invalid({
      diagnostics: 'patient: a CPR number, 10 digits (optionally urn:oid:1.2.208.176.1.2|<cpr>)',
      expression: 'patient',
    });
  }
  const instant = (name: string) => {
    const text = queryString(query[name], name);
    if (text !== undefined && (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(Date.parse(text)))) {
      throw errors.invalid({ diagnostics: `${name}: an ISO 8601 date or instant`, expression: name });
    }
    return text;
  };
  const cursorText = queryString(query.cursor, 'cursor');
  const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText);
  if (cursorText !== undefined && !cursor) {
    throw errors.invalid({ diagnostics: 'cursor: the `next` value of a previous page', expression: 'cursor' });
  }
  const kind = queryString(query.kind, 'kind');
  // `before` is the older name of `until`.
  return {
    side: side as TrafficSide | undefined,
    status: status as MessageStatus | undefined,
    kind,
    patientCpr: patient,
    since: instant('since'),
    until: instant('until') ?? instant('before'),
    count,
    cursor,
  };
}
