import type { Endpoint } from 'fhir/r4';
import { SYSTEM } from '../systems';
import { MEDCOM_SYSTEM, type MedComEvent } from './medcom-systems';

/**
 * Which dialect a recipient's endpoint takes for a message, from Endpoint.payloadType: a MedCom receiver lists
 * MedCom event codes (medcom-messaging-eventCodes), a FHIR-native receiver the gateway's own message events
 * (sektorbro-message-events). An endpoint that lists no coded payload type (only a text) predates this rule and
 * takes the gateway's own messages.
 */
export type Dialect = 'medcom' | 'sektorbro';

export function acceptsMedCom(endpoint: Endpoint | undefined, event: MedComEvent): boolean {
  return (endpoint?.payloadType ?? []).some((p) =>
    p.coding?.some((c) => c.system === MEDCOM_SYSTEM.eventCodes && c.code === event),
  );
}

/**
 * The dialect to build: MedCom when the message has a MedCom counterpart the endpoint lists; otherwise the
 * gateway's own when the endpoint lists the gateway's event (or no coded payload type); undefined when the
 * endpoint takes neither (a MedCom-only receiver for a message MedCom has no standard for).
 */
export function dialectFor(
  endpoint: Endpoint | undefined,
  medcomEvent: MedComEvent | undefined,
  ownEvent: string,
): Dialect | undefined {
  if (medcomEvent && acceptsMedCom(endpoint, medcomEvent)) {
    return 'medcom';
  }
  const codings = (endpoint?.payloadType ?? []).flatMap((p) => p.coding ?? []);
  if (codings.length === 0) {
    return 'sektorbro';
  }
  return codings.some((c) => c.system === SYSTEM.messageEvents && c.code === ownEvent) ? 'sektorbro' : undefined;
}
