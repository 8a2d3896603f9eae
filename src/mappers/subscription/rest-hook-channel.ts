import { urlRefusal, type OutboundPolicy } from '../../outbound/address-policy';

/**
 * What a rest-hook channel may be. The gateway posts clinical content (full-resource payloads) to it, so the
 * URL is https; plain http only where the operator allows it (SUBSCRIPTION_ALLOW_HTTP, on by default outside
 * production so loopback demos and tests work). Credentials belong in channel.header, never in the URL, where
 * proxies and logs would keep them. Header lines are few and short, and none may replace a header the gateway
 * sets or one that governs the HTTP framing: a subscriber that could set Content-Length or Host could make the
 * gateway send something other than the notification, or send it somewhere else; nor one that tells a proxy
 * where the request came from (Forwarded, X-Forwarded-*, X-Real-IP, Via), which a receiver's proxy may trust.
 * The endpoint's address must be one the outbound policy allows (src/outbound/address-policy.ts): not the
 * gateway itself, not loopback, private or link-local unless configuration opens them.
 */
export const MAX_HEADERS = 10;
export const MAX_HEADER_LINE = 1024;
export const MAX_ENDPOINT_LENGTH = 2048;

export const RESERVED_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'via',
];

/** The header's name as written, without surrounding blanks. */
export function headerName(line: string): string {
  return line.slice(0, Math.max(0, line.indexOf(':'))).trim();
}

/**
 * Why the endpoint is refused (diagnostics naming the element), or undefined when it is a usable rest-hook.
 * `outbound` is the address policy; without one only the URL's form is checked.
 */
export function endpointProblem(endpoint: unknown, allowHttp: boolean, outbound?: OutboundPolicy): string | undefined {
  const wanted = allowHttp ? 'an absolute https (or http) URL' : 'an absolute https URL';
  if (typeof endpoint !== 'string' || endpoint === '' || /\s/.test(endpoint) || endpoint.length > MAX_ENDPOINT_LENGTH) {
    return `Subscription.channel.endpoint: the rest-hook, ${wanted} of at most ${MAX_ENDPOINT_LENGTH} characters`;
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `Subscription.channel.endpoint: the rest-hook, ${wanted}`;
  }
  if (url.protocol === 'http:' && !allowHttp) {
    return 'Subscription.channel.endpoint: plain http is refused (notifications carry clinical content); use https';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `Subscription.channel.endpoint: the rest-hook, ${wanted}`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'Subscription.channel.endpoint: no credentials in the URL; send them in Subscription.channel.header';
  }
  const refused = outbound ? urlRefusal(url, outbound) : undefined;
  return refused ? `Subscription.channel.endpoint: refused, ${refused}` : undefined;
}

/** Everything wrong with the header lines, each naming the element; values are never echoed (they are secrets). */
export function headerProblems(headers: unknown): string[] {
  if (!Array.isArray(headers) || headers.some((h) => typeof h !== 'string')) {
    return ['Subscription.channel.header: a list of "Name: value" lines'];
  }
  const lines = headers as string[];
  const problems: string[] = [];
  if (lines.length > MAX_HEADERS) {
    problems.push(`Subscription.channel.header: at most ${MAX_HEADERS} headers`);
  }
  if (lines.some((h) => !/^[A-Za-z0-9-]+: ?[\t\x20-\x7e]*$/.test(h))) {
    problems.push(
      'Subscription.channel.header: each line "Name: value", the name letters, digits and "-", the value printable ASCII on one line',
    );
  }
  if (lines.some((h) => h.length > MAX_HEADER_LINE)) {
    problems.push(`Subscription.channel.header: each line at most ${MAX_HEADER_LINE} characters`);
  }
  const names = lines.map(headerName).filter((n) => n !== '');
  const reserved = [...new Set(names.filter((n) => RESERVED_HEADERS.includes(n.toLowerCase())))];
  if (reserved.length > 0) {
    problems.push(`Subscription.channel.header: ${reserved.join(', ')} is set by the gateway and cannot be given`);
  }
  const twice = [...new Set(names.filter((n, i) => names.findIndex((o) => o.toLowerCase() === n.toLowerCase()) !== i))];
  if (twice.length > 0) {
    problems.push(`Subscription.channel.header: ${twice.join(', ')} given more than once`);
  }
  return problems;
}
