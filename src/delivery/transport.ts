import type { Bundle } from 'fhir/r4';
import { createFhirClient } from '../fhir/create-client';
import { normalizeUpstreamError, type UpstreamFailure } from '../fhir/upstream-error';
import type { ConnectionType } from '../directory/directory';
import { parseAcknowledgement } from '../mappers/message/acknowledgement';

/**
 * Puts one message Bundle on a recipient's FHIR endpoint.
 * - hl7-fhir-msg: `POST {address}/$process-message` with the message Bundle (FHIR messaging, as MedCom).
 *   A synchronous acknowledgement in the answer decides the outcome; an empty 2xx means "accepted".
 * - hl7-fhir-rest: `PUT {address}/Bundle/{Bundle.id}` of the same message Bundle. Update-as-create with an
 *   id that never changes for this delivery, so a retry overwrites rather than duplicates.
 */
export type TransportResult =
  | { readonly kind: 'delivered'; readonly status: number | undefined }
  | { readonly kind: 'acknowledged'; readonly code: 'ok' | 'transient-error' | 'fatal-error'; readonly diagnostics?: string }
  | { readonly kind: 'failed'; readonly failure: UpstreamFailure };

export interface DeliveryTarget {
  readonly address: string;
  readonly connectionType: ConnectionType;
}

export async function sendBundle(target: DeliveryTarget, bundle: Bundle, options: { timeoutMs: number; headers?: Record<string, string> }): Promise<TransportResult> {
  const client = createFhirClient(target.address, options.headers);
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort();
  }, options.timeoutMs);
  try {
    const requestOptions = { signal: controller.signal } as RequestInit;
    const answer: unknown =
      target.connectionType === 'hl7-fhir-msg'
        ? await client.operation({ name: '$process-message', method: 'POST', input: bundle, options: requestOptions })
        : await client.update({ resourceType: 'Bundle', id: bundle.id ?? '', body: bundle as never, options: requestOptions });
    const ack = target.connectionType === 'hl7-fhir-msg' ? parseAcknowledgement(answer) : undefined;
    if (ack) {
      return { kind: 'acknowledged', code: ack.code, ...(ack.diagnostics ? { diagnostics: ack.diagnostics } : {}) };
    }
    return { kind: 'delivered', status: undefined };
  } catch (e) {
    return { kind: 'failed', failure: normalizeUpstreamError(e) };
  } finally {
    clearTimeout(timer);
  }
}
