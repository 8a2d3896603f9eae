import type { Dispatcher } from 'undici';

/**
 * One FHIR JSON exchange with a recipient's endpoint, over the gateway's outbound dispatcher (src/outbound: an
 * undici Agent, so one keep-alive connection pool per endpoint origin, every connection checked against the
 * outbound policy). It replaces fhir-kit-client 1.9.2 for deliveries: that client builds a new agent for every
 * request (its per-URL cache is a WeakMap keyed by a fresh object) and goes through fetch's Request, Headers
 * and web streams, about 9 % of the gateway's main thread under load.
 *
 * The answers keep fhir-kit-client's contract, which src/fhir/upstream-error.ts reads: the parsed JSON body (or
 * `{}` when empty) for a 2xx; for any other status, or a body that is not JSON, a thrown
 * {@link UpstreamHttpError} (`response: { status, data }`, as fhir-kit-client's plain objects); network failures, refusals by the outbound policy
 * and aborts (`signal`) throw the dispatcher's Error. Redirects are not followed (a 3xx is an answer that fails).
 */
export interface FhirExchange {
  readonly method: 'POST' | 'PUT';
  /** Absolute URL: `{base}/$process-message` or `{base}/Bundle/{id}` (see {@link endpointUrl}). */
  readonly url: string;
  /** JSON text (written with numbers kept as written). */
  readonly body: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export async function fhirExchange(dispatcher: Dispatcher, exchange: FhirExchange): Promise<unknown> {
  const url = new URL(exchange.url);
  const headers: Record<string, string> = {
    accept: 'application/fhir+json',
    'content-type': 'application/fhir+json',
  };
  for (const [name, value] of Object.entries(exchange.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  const response = await dispatcher.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: exchange.method,
    headers,
    body: exchange.body,
    ...(exchange.signal ? { signal: exchange.signal } : {}),
  });
  // Read to the end either way: a body left unread keeps the connection out of the pool.
  const text = await response.body.text();
  const status = response.statusCode;
  let data: unknown = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new UpstreamHttpError(status, text, exchange);
    }
  }
  if (status < 200 || status > 299) {
    throw new UpstreamHttpError(status, data, exchange);
  }
  return data;
}

/** `base` joined with a relative FHIR path the way fhir-kit-client joined them (one slash between). */
export function endpointUrl(base: string, path: string): string {
  return base.endsWith('/') ? `${base}${path}` : `${base}/${path}`;
}

/** A recipient's answer that is not a 2xx with JSON: `response` has the shape fhir-kit-client's errors had. */
export class UpstreamHttpError extends Error {
  readonly response: { readonly status: number; readonly data: unknown };
  readonly config: { readonly method: string; readonly url: string };
  constructor(status: number, data: unknown, exchange: Pick<FhirExchange, 'method' | 'url'>) {
    super(`HTTP ${status} from ${exchange.method} ${exchange.url}`);
    this.name = 'UpstreamHttpError';
    this.response = { status, data };
    this.config = { method: exchange.method, url: exchange.url };
  }
}
