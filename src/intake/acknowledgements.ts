import type { OperationOutcome } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { completeDelivery } from '../delivery/complete-delivery';
import { errors, issue, outcome } from '../errors';
import { parseAcknowledgement } from '../mappers/message/acknowledgement';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';
import { loadDeliveryWorkByMessageHeader, requeueDelivery } from '../store/messages';
import { isUuid } from '../store/uuid';
import { cloneJson } from '../json/json-text';
import type { FhirValidator } from '../validation/fhir-validator';
import { recordDeliveryAcknowledgement } from '../store/medcom-received';
import { assertValidFhirInput } from '../validation/valid-fhir-input';

/**
 * An acknowledgement a recipient posts back later (POST /fhir/$process-message). It decides the delivery
 * the same way a synchronous one does: ok delivers, fatal-error fails, transient-error sends again.
 * Only the organisation the message went to may acknowledge it. An acknowledgement is never acknowledged.
 */
export async function recordAcknowledgement(
  deps: { db: Db; metrics: Metrics; onRequeued: () => void; validator: FhirValidator },
  client: GatewayClient,
  body: unknown,
): Promise<OperationOutcome> {
  body = withBareResponseIdentifier(body);
  // A valid R4 Bundle first: parseAcknowledgement reads it as one (an OperationOutcome has issues, entries are objects).
  assertValidFhirInput(deps.validator, body);
  const ack = parseAcknowledgement(body);
  if (!ack) {
    throw errors.invalid({
      diagnostics:
        'body: not an acknowledgement: expected a message Bundle whose MessageHeader has response.identifier and response.code',
      expression: 'Bundle.entry[0].resource.response',
      reason: 'not-an-acknowledgement',
    });
  }
  const respondsTo = ack.respondsTo.toLowerCase();
  if (!isUuid(respondsTo)) {
    throw errors.invalid({
      diagnostics: `MessageHeader.response.identifier: "${ack.respondsTo.slice(0, 80)}" is not the id of a message this gateway sends (a UUID, bare or as urn:uuid:)`,
      expression: 'Bundle.entry[0].resource.response.identifier',
      reason: 'not-an-acknowledgement',
    });
  }
  const deliveries = await loadDeliveryWorkByMessageHeader(deps.db, respondsTo);
  if (deliveries.length === 0) {
    throw errors.notFound({
      diagnostics: `MessageHeader.response.identifier: no message ${ack.respondsTo} was sent by this gateway`,
    });
  }
  const mine = deliveries.find((d) => d.recipientValue === client.organization.value);
  if (!mine) {
    throw errors.forbidden({
      diagnostics: 'MessageHeader.response.identifier: your organisation was not a recipient of that message',
      reason: 'not-a-recipient',
    });
  }
  const reason = `recipient acknowledged with ${ack.code}${ack.errorCode ? ` (${ack.errorCode})` : ''}${ack.diagnostics ? `: ${ack.diagnostics}` : ''}`;
  await deps.db.transaction((tx) => recordDeliveryAcknowledgement(tx, mine.id, ack.code, ack.errorCode));
  if (ack.code === 'ok' && mine.status !== 'delivered') {
    await completeDelivery(deps, mine, 'delivered', null, false);
  } else if (ack.code === 'fatal-error' && mine.status !== 'failed') {
    await completeDelivery(deps, mine, 'failed', reason, false);
  } else if (ack.code === 'transient-error' && (mine.status === 'delivered' || mine.status === 'failed')) {
    await deps.db.transaction((tx) => requeueDelivery(tx, mine.id, reason));
    deps.onRequeued();
  }
  return outcome([
    issue({
      severity: 'information',
      code: 'informational',
      diagnostics: `acknowledgement ${ack.code} recorded for message ${ack.respondsTo}`,
    }),
  ]);
}

/**
 * MessageHeader.response.identifier is an `id` in R4 (the acknowledged MessageHeader.id), but senders often write
 * it the way Bundle.entry.fullUrl names the header, as `urn:uuid:<id>`: that form is taken as the bare id.
 */
function withBareResponseIdentifier(body: unknown): unknown {
  const header = (body as { entry?: Array<{ resource?: { response?: { identifier?: unknown } } }> } | null)?.entry?.[0]
    ?.resource;
  const identifier = header?.response?.identifier;
  if (!Array.isArray((body as { entry?: unknown }).entry) || typeof identifier !== 'string') {
    return body;
  }
  if (!/^urn:uuid:/i.test(identifier)) {
    return body;
  }
  const copy = cloneJson(body) as { entry: Array<{ resource: { response: { identifier: string } } }> };
  (copy.entry[0] as (typeof copy.entry)[0]).resource.response.identifier = identifier.slice('urn:uuid:'.length);
  return copy;
}
