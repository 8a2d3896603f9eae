import type { Bundle, BundleEntry, Parameters, ParametersParameter, Resource } from 'fhir/r4';
import type { MappingContext } from '../context';
import { BACKPORT, type NotificationType, type PayloadContent, type SubscriptionStatus } from './backport';

/**
 * Notification Bundles of the R5 Subscriptions Backport for R4: a `history` Bundle whose first entry is the
 * SubscriptionStatus as Parameters (subscription, topic, status, type, events-since-subscription-start, one
 * notification-event per event with its number), then the events' focus resources: none (empty), their
 * URLs (id-only) or the resources themselves (full-resource, where consent allows; an event whose consent
 * does not allow it goes id-only). $status and $events answer with the same shapes.
 */
export interface StatusInput {
  subscriptionUrl: string;
  topic: string;
  status: SubscriptionStatus;
  type: NotificationType;
  eventsSinceStart: number;
  error?: string | null | undefined;
}

export interface EventInput {
  eventNumber: number;
  timestamp: string;
  focusType: string;
  focusUrl: string;
  /** The focus resource, when the subscription asks for full-resource and consent allows it. */
  resource?: Resource | undefined;
}

export function subscriptionStatus(
  status: StatusInput,
  events: readonly EventInput[],
  content: PayloadContent,
): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: status.subscriptionUrl } },
    { name: 'topic', valueCanonical: status.topic },
    { name: 'status', valueCode: status.status },
    { name: 'type', valueCode: status.type },
    // A string in R4: the backport's stand-in for R5's integer64.
    { name: 'events-since-subscription-start', valueString: String(status.eventsSinceStart) },
    ...events.map((e) => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(e.eventNumber) },
        { name: 'timestamp', valueInstant: e.timestamp },
        ...(content === 'empty' ? [] : [{ name: 'focus', valueReference: { reference: e.focusUrl } }]),
      ],
    })),
    ...(status.error ? [{ name: 'error', valueCodeableConcept: { text: status.error } }] : []),
  ];
  return { resourceType: 'Parameters', meta: { profile: [BACKPORT.statusProfile] }, parameter };
}

export function notificationBundle(
  status: StatusInput,
  events: readonly EventInput[],
  content: PayloadContent,
  ctx: MappingContext,
): Bundle {
  const statusEntry: BundleEntry = {
    fullUrl: `urn:uuid:${ctx.newId()}`,
    resource: subscriptionStatus(status, events, content),
    request: { method: 'GET', url: `${status.subscriptionUrl}/$status` },
    response: { status: '200' },
  };
  const focus: BundleEntry[] =
    content === 'empty'
      ? []
      : events.map((e) => ({
          fullUrl: e.focusUrl,
          ...(content === 'full-resource' && e.resource ? { resource: e.resource } : {}),
          request: { method: 'POST', url: e.focusType },
          response: { status: '201' },
        }));
  return {
    resourceType: 'Bundle',
    id: ctx.newId(),
    meta: { profile: [BACKPORT.notificationProfile] },
    type: 'history',
    timestamp: ctx.now.toISOString(),
    entry: [statusEntry, ...focus],
  };
}
