import type { Bundle } from 'fhir/r4';
import type { Dispatcher } from 'undici';
import type { OutboundPolicy } from '../outbound/address-policy';
import { assertOutboundUrl } from '../outbound/outbound-dispatcher';
import { normalizeUpstreamError, type UpstreamFailure } from '../fhir/upstream-error';
import type { ConnectionType } from '../directory/directory';
import { stringifyJson } from '../json/json-text';
import { parseAcknowledgement } from '../mappers/message/acknowledgement';
import { endpointUrl, fhirExchange } from './fhir-http';

/**
 * Puts one message Bundle on a recipient's FHIR endpoint.
 * - hl7-fhir-msg: `POST {address}/$process-message` with the message Bundle (FHIR messaging, as MedCom).
 *   A synchronous acknowledgement in the answer decides the outcome; an empty 2xx means "accepted".
 * - hl7-fhir-rest: `PUT {address}/Bundle/{Bundle.id}` of the same message Bundle. Update-as-create with an
 *   id that never changes for this delivery, so a retry overwrites rather than duplicates.
 */
export type TransportResult =
  | { readonly kind: 'delivered'; readonly status: number | undefined }
  | {
      readonly kind: 'acknowledged';
      readonly code: 'ok' | 'transient-error' | 'fatal-error';
      readonly diagnostics?: string;
      readonly errorCode?: string;
    }
  | { readonly kind: 'failed'; readonly failure: UpstreamFailure };

export interface DeliveryTarget {
  readonly address: string;
  readonly connectionType: ConnectionType;
}

/**
 * `outbound` and `dispatcher` keep the request to addresses the outbound policy allows (src/outbound): the
 * address is checked before the request and every resolved address when connecting; redirects are not followed.
 */
export async function sendBundle(
  target: DeliveryTarget,
  bundle: Bundle,
  options: { timeoutMs: number; headers?: Record<string, string>; outbound: OutboundPolicy; dispatcher: Dispatcher },
): Promise<TransportResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort();
  }, options.timeoutMs);
  try {
    assertOutboundUrl(target.address, options.outbound);
    // Sent as text so numbers keep the precision they were written with.
    const body = stringifyJson(bundle);
    const answer: unknown = await fhirExchange(options.dispatcher, {
      ...(target.connectionType === 'hl7-fhir-msg'
        ? { method: 'POST', url: endpointUrl(target.address, '$process-message') }
        : { method: 'PUT', url: endpointUrl(target.address, `Bundle/${bundle.id ?? ''}`) }),
      body,
      ...(options.headers ? { headers: options.headers } : {}),
      signal: controller.signal,
    });
    const ack = target.connectionType === 'hl7-fhir-msg' ? parseAcknowledgement(answer) : undefined;
    if (ack) {
      return {
        kind: 'acknowledged',
        code: ack.code,
        ...(ack.diagnostics ? { diagnostics: ack.diagnostics } : {}),
        ...(ack.errorCode ? { errorCode: ack.errorCode } : {}),
      };
    }
    return { kind: 'delivered', status: undefined };
  } catch (e) {
    return { kind: 'failed', failure: normalizeUpstreamError(e) };
  } finally {
    clearTimeout(timer);
  }
}
