import type { OperationOutcome } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { completeDelivery } from '../delivery/complete-delivery';
import { errors, issue, outcome } from '../errors';
import { parseAcknowledgement } from '../mappers/message/acknowledgement';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';
import { loadDeliveryWorkByMessageHeader, requeueDelivery } from '../store/messages';
import { withDatabase } from '../store/unavailable';

/**
 * An acknowledgement a recipient posts back later (POST /fhir/$process-message). It decides the delivery
 * the same way a synchronous one does: ok delivers, fatal-error fails, transient-error sends again.
 * Only the organisation the message went to may acknowledge it. An acknowledgement is never acknowledged.
 */
export async function recordAcknowledgement(deps: { db: Db; metrics: Metrics; onRequeued: () => void }, client: GatewayClient, body: unknown): Promise<OperationOutcome> {
  const ack = parseAcknowledgement(body);
  if (!ack) {
    throw errors.invalid({
      diagnostics: 'body: not an acknowledgement: expected a message Bundle whose MessageHeader has response.identifier and response.code',
      expression: 'Bundle.entry[0].resource.response',
      reason: 'not-an-acknowledgement',
    });
  }
  const deliveries = await withDatabase(() => loadDeliveryWorkByMessageHeader(deps.db, ack.respondsTo));
  if (deliveries.length === 0) {
    throw errors.notFound(`MessageHeader.response.identifier: no message ${ack.respondsTo} was sent by this gateway`);
  }
  const mine = deliveries.find((d) => d.recipientSor === client.organization.value);
  if (!mine) {
    throw errors.forbidden('MessageHeader.response.identifier: your organisation was not a recipient of that message', 'not-a-recipient');
  }
  const reason = `recipient acknowledged with ${ack.code}${ack.diagnostics ? `: ${ack.diagnostics}` : ''}`;
  await withDatabase(async () => {
    if (ack.code === 'ok' && mine.status !== 'delivered') {
      await completeDelivery(deps, mine, 'delivered', null, false);
    } else if (ack.code === 'fatal-error' && mine.status !== 'failed') {
      await completeDelivery(deps, mine, 'failed', reason, false);
    } else if (ack.code === 'transient-error' && (mine.status === 'delivered' || mine.status === 'failed')) {
      await deps.db.transaction((tx) => requeueDelivery(tx, mine.id, reason));
      deps.onRequeued();
    }
  });
  return outcome([issue({ severity: 'information', code: 'informational', diagnostics: `acknowledgement ${ack.code} recorded for message ${ack.respondsTo}` })]);
}
