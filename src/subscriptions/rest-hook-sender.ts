import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { normalizeUpstreamError } from '../fhir/upstream-error';
import { stringifyJson } from '../json/json-text';
import type { MappingContext } from '../mappers/context';
import type { NotificationType } from '../mappers/subscription/backport';
import { notificationBundle, type EventInput } from '../mappers/subscription/notification';
import { headerName, RESERVED_HEADERS } from '../mappers/subscription/rest-hook-channel';
import type { Logger } from '../observability/logger';
import type { OutboundPolicy } from '../outbound/address-policy';
import { outboundRequestInit } from '../outbound/outbound-request';
import type { SubscriptionRow } from './subscription-store';

/**
 * What Subscription.error says when a rest-hook was not reached, whatever the cause (refused connection,
 * reset, TLS failure, timeout, unknown name, an address the policy refuses): one text, so a subscriber cannot
 * use its subscription to learn which ports or hosts answer. The cause goes to the log.
 */
export const REST_HOOK_UNREACHABLE = 'rest-hook not reached (no connection, no answer in time, or address not allowed)';

export interface RestHookOptions {
  /** The gateway's FHIR base URL: the notification Bundle names the subscription and focus under it. */
  baseUrl: string;
  timeoutMs: number;
  /** Where rest-hooks may point (OUTBOUND_ALLOW_PRIVATE, OUTBOUND_ALLOW). */
  outbound: OutboundPolicy;
  /** Connects only where `outbound` allows, after DNS resolution (src/outbound/outbound-dispatcher.ts). */
  dispatcher: Dispatcher;
  logger: Logger;
}

/**
 * POSTs one notification Bundle (FHIR Subscriptions Backport for R4: handshake, heartbeat or event-notification)
 * to the subscription's rest-hook with its own headers, through the same outbound request as deliveries
 * (outboundRequestInit). Resolves on a 2xx; throws Error(REST_HOOK_UNREACHABLE) when the hook was not reached
 * (normalizeUpstreamError's cause goes to the log only) and Error("rest-hook answered <status>") otherwise.
 */
export async function sendRestHook(
  s: SubscriptionRow,
  type: NotificationType,
  events: EventInput[],
  options: RestHookOptions,
): Promise<void> {
  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: options.baseUrl };
  const bundle = notificationBundle(
    {
      subscriptionUrl: `${options.baseUrl}/Subscription/${s.id}`,
      topic: s.topic,
      status: type === 'handshake' ? 'requested' : s.status,
      type,
      eventsSinceStart:
        type === 'event-notification' ? (events.at(-1)?.eventNumber ?? s.eventsSinceStart) : s.eventsSinceStart,
    },
    events,
    s.content,
    ctx,
  );
  let answer: Response;
  try {
    answer = await fetch(s.endpoint, {
      method: 'POST',
      headers: restHookHeaders(s.headers),
      body: stringifyJson(bundle),
      ...outboundRequestInit(s.endpoint, {
        outbound: options.outbound,
        dispatcher: options.dispatcher,
        signal: AbortSignal.timeout(options.timeoutMs),
      }),
    });
  } catch (e) {
    options.logger.warn({ subscriptionId: s.id, cause: normalizeUpstreamError(e).detail }, 'rest-hook not reached');
    throw new Error(REST_HOOK_UNREACHABLE);
  }
  await answer.arrayBuffer().catch(() => undefined);
  if (!answer.ok) {
    throw new Error(`rest-hook answered ${answer.status}`);
  }
}

/** The subscriber's channel headers ("Name: value"), never one the gateway sets itself, plus the content type. */
export function restHookHeaders(channelHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of channelHeaders) {
    const name = headerName(h);
    // Refused at creation too; rows stored before that rule must not override what the gateway sets either.
    if (name !== '' && !RESERVED_HEADERS.includes(name.toLowerCase())) {
      headers[name] = h.slice(h.indexOf(':') + 1).trim();
    }
  }
  headers['Content-Type'] = 'application/fhir+json';
  return headers;
}
