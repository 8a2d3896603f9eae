import type { Bundle } from 'fhir/r4';
import { Router } from 'express';
import { currentClient } from '../auth/authenticate';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import { recordAcknowledgement } from '../intake/acknowledgements';
import { ROUTED_MEDCOM_EVENTS, receiveMedComMessage } from '../intake/medcom-inbound';
import { MEDCOM_SYSTEM, type MedComEvent } from '../mappers/medcom/medcom-systems';
import { headerOf } from '../mappers/medcom/messaging';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';
import type { FhirValidator } from '../validation/fhir-validator';
import { assertValidFhirInput } from '../validation/valid-fhir-input';

/**
 * POST /fhir/$process-message: where recipients send acknowledgements (MessageHeader.source.endpoint), and where
 * MedCom systems send CareCommunications and HospitalNotifications for the gateway to route, answered with a
 * MedCom Acknowledgement (an acknowledgement itself is never acknowledged).
 */
export function acknowledgementRoutes(deps: {
  db: Db;
  metrics: Metrics;
  onRequeued: () => void;
  gatewayEndpoint: string;
  validator: FhirValidator;
}): Router {
  const router = Router();
  router.post('/fhir/\\$process-message', requireBody, async (req, res) => {
    const body = req.body as Partial<Bundle>;
    const header = body.resourceType === 'Bundle' && body.type === 'message' ? headerOf(body as Bundle) : undefined;
    const event = header?.eventCoding;
    if (
      header &&
      !header.response &&
      event?.system === MEDCOM_SYSTEM.eventCodes &&
      ROUTED_MEDCOM_EVENTS.includes(event.code as MedComEvent)
    ) {
      // a MedCom message is read only once it is valid FHIR R4: bad input is a 400 naming the element, never a 500
      assertValidFhirInput(deps.validator, body);
      const ack = await receiveMedComMessage(
        { db: deps.db, onAccepted: deps.onRequeued, gatewayEndpoint: deps.gatewayEndpoint },
        currentClient(res),
        body as Bundle,
      );
      sendFhir(res, 200, ack);
      return;
    }
    const result = await recordAcknowledgement(deps, currentClient(res), req.body);
    sendFhir(res, 200, result);
  });
  return router;
}
