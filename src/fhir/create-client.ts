import Client from 'fhir-kit-client';
import type { Dispatcher } from 'undici';
import type { OutboundPolicy } from '../outbound/address-policy';
import { assertOutboundUrl } from '../outbound/outbound-dispatcher';

/**
 * How the gateway reaches other servers: the outbound policy (src/outbound/address-policy.ts) and the checked
 * dispatcher that resolves host names and refuses addresses the policy does not allow (outbound-dispatcher.ts).
 */
export interface OutboundAccess {
  readonly policy: OutboundPolicy;
  readonly dispatcher: Dispatcher;
}

/**
 * A fhir-kit-client for one base URL whose every request goes through the checked dispatcher: the base URL is
 * checked here (throws OutboundRefusedError: a literal private address, `localhost`, the gateway's own origin),
 * each resolved address when connecting, and redirects are refused unless a call asks otherwise (a redirect is an
 * answer, not an instruction to send the request, a CPR number in its query included, somewhere else).
 * fhir-kit-client merges these base options under each call's own `options`.
 * Only src/fhir and src/delivery touch fhir-kit-client directly.
 */
export function createFhirClient(
  baseUrl: string,
  outbound: OutboundAccess,
  customHeaders: Record<string, string> = {},
): Client {
  assertOutboundUrl(baseUrl, outbound.policy);
  return new Client({
    baseUrl,
    customHeaders,
    // undici's own Dispatcher type and the one Node's fetch is typed with are the same interface, twice.
    requestOptions: { dispatcher: outbound.dispatcher as unknown as RequestInit['dispatcher'], redirect: 'error' },
  });
}
