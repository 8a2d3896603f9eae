import { Router } from 'express';
import { currentClient } from '../auth/authenticate';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import { recordAcknowledgement } from '../intake/acknowledgements';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';

/** POST /fhir/$process-message: where recipients send acknowledgements (MessageHeader.source.endpoint). */
export function acknowledgementRoutes(deps: { db: Db; metrics: Metrics; onRequeued: () => void }): Router {
  const router = Router();
  router.post('/fhir/\\$process-message', requireBody, async (req, res) => {
    const result = await recordAcknowledgement(deps, currentClient(res), req.body);
    sendFhir(res, 200, result);
  });
  return router;
}
