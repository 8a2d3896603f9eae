import type { Dispatcher } from 'undici';
import type { OutboundPolicy } from './address-policy';
import { assertOutboundUrl } from './outbound-dispatcher';

/**
 * The fetch options of every request the gateway makes on someone else's behalf (a delivery to a directory
 * endpoint, a rest-hook notification), so both go out the same way: the URL checked against the outbound policy
 * first (throws OutboundRefusedError), the connection held to it by `dispatcher` (src/outbound), a redirect
 * treated as an answer rather than followed (it would take the request and its headers elsewhere), and the
 * caller's `signal` (its timeout). Errors thrown by the request are read by normalizeUpstreamError (src/fhir).
 */
export function outboundRequestInit(
  url: string,
  options: { outbound: OutboundPolicy; dispatcher: Dispatcher; signal: AbortSignal },
): RequestInit {
  assertOutboundUrl(url, options.outbound);
  return {
    signal: options.signal,
    redirect: 'manual',
    // undici's own Dispatcher type and the one Node's fetch is typed with are the same interface, twice.
    dispatcher: options.dispatcher as unknown as RequestInit['dispatcher'],
  };
}
