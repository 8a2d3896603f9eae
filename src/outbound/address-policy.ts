import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';

/**
 * Where the gateway may send requests on someone else's behalf (subscription rest-hooks, directory
 * endpoints). A subscriber chooses its rest-hook URL, so without a rule it could make the gateway post to the
 * gateway itself, to a cloud metadata service (169.254.169.254) or to anything else only the gateway's network
 * can reach (server-side request forgery). The rule: only public unicast addresses, unless configuration says
 * otherwise; never the gateway's own origin; never an unspecified, broadcast or multicast address.
 *
 * The same rule is applied twice: to the URL when it is registered or loaded (a literal address, `localhost`,
 * the gateway's own origin: refused with 400), and to every address a host name resolves to when the request is
 * made (outbound-dispatcher.ts), which is what counts: DNS answers change (rebinding), so the check is on the
 * address actually connected to. Address classes are ipaddr.js's (IANA special-purpose registries).
 */
export interface OutboundPolicy {
  /** Loopback, RFC 1918, CGNAT (100.64/10) and unique-local (fc00::/7) addresses may be reached. */
  readonly allowPrivate: boolean;
  /** Ranges reached whatever their class (OUTBOUND_ALLOW), e.g. a health network's 10.20.0.0/16. */
  readonly allowedRanges: ReadonlyArray<readonly [ipaddr.IPv4 | ipaddr.IPv6, number]>;
  /** Host names (lower case, no trailing dot) reached whatever they resolve to (OUTBOUND_ALLOW). */
  readonly allowedHosts: ReadonlySet<string>;
  /** The gateway's public origin, `host:port` in lower case: never a target, whatever else is allowed. */
  readonly selfOrigin: string;
  /** The port the gateway listens on: a loopback or unspecified address on it is the gateway itself. */
  readonly selfPort: number;
  /**
   * This host's own interface addresses (normalised): on the listening port they are the gateway itself too,
   * whatever their class (a unique-local or private address is reached where private addresses are allowed).
   */
  readonly selfAddresses: ReadonlySet<string>;
}

/** Address classes: `public` is global unicast, `private` is what allowPrivate opens, the rest are special. */
export type AddressClass = 'public' | 'private' | 'link-local' | 'never' | 'special';

const PRIVATE_RANGES = new Set(['loopback', 'private', 'carrierGradeNat', 'uniqueLocal']);
/** Never a destination: 0.0.0.0 reaches the local host on Linux; broadcast and multicast are not one peer. */
const NEVER_RANGES = new Set(['unspecified', 'broadcast', 'multicast']);
/** ::/96, IPv4-compatible IPv6 (RFC 4291 §2.5.5.1, deprecated): ipaddr.js counts it as unicast. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * Builds the policy from configuration. `allow` entries are CIDR ranges (`10.20.0.0/16`, `fd00::/8`), single
 * addresses, or host names. Throws an Error naming a bad entry. The gateway's own origins are those of
 * `publicBaseUrl`, and `localhost`/loopback/unspecified on `port` (the listening port).
 */
export function outboundPolicy(options: {
  allowPrivate: boolean;
  allow: readonly string[];
  publicBaseUrl: string;
  port: number;
  /** The host's interface addresses; default: os.networkInterfaces(). */
  localAddresses?: readonly string[];
}): OutboundPolicy {
  const allowedRanges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  const allowedHosts = new Set<string>();
  for (const entry of options.allow) {
    const text = entry.trim();
    if (text.includes('/')) {
      try {
        allowedRanges.push(ipaddr.parseCIDR(text));
      } catch {
        throw new Error(`"${text}" is not a CIDR range`);
      }
    } else if (ipaddr.isValid(unbracket(text))) {
      const address = ipaddr.parse(unbracket(text));
      allowedRanges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(text)) {
      allowedHosts.add(normalHost(text));
    } else {
      throw new Error(`"${text}" is neither a CIDR range, an address nor a host name`);
    }
  }
  const self = new URL(options.publicBaseUrl);
  return {
    allowPrivate: options.allowPrivate,
    allowedRanges,
    allowedHosts,
    selfOrigin: `${normalHost(self.hostname)}:${effectivePort(self)}`,
    selfPort: options.port,
    selfAddresses: new Set(
      (options.localAddresses ?? interfaceAddresses()).flatMap((a) => {
        const address = a.replace(/%.*$/, '');
        return ipaddr.isValid(address) ? [parseMapped(address).toNormalizedString()] : [];
      }),
    ),
  };
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** The class of one IP address (IPv4-mapped IPv6 is classed as the IPv4 address it maps). */
export function addressClass(address: string): AddressClass {
  const ip = parseMapped(address);
  const range = ip.range();
  if (NEVER_RANGES.has(range)) {
    return 'never';
  }
  if (PRIVATE_RANGES.has(range)) {
    return 'private';
  }
  if (range === 'linkLocal') {
    return 'link-local';
  }
  if (range === 'unicast' && !(ip instanceof ipaddr.IPv6 && ip.match(IPV4_COMPATIBLE))) {
    return 'public';
  }
  return 'special';
}

/**
 * Why the gateway may not connect to `address` (an IP address, for logs and errors), or undefined when it may.
 * `host` is the name it was resolved from, if any: an allow-listed name opens every address but `never` ones.
 */
export function addressRefusal(address: string, policy: OutboundPolicy, host?: string): string | undefined {
  if (!ipaddr.isValid(unbracket(address))) {
    return `${address} is not an IP address`;
  }
  const kind = addressClass(address);
  if (kind === 'never') {
    return `${address} is an unspecified, broadcast or multicast address`;
  }
  if (kind === 'public' || (host !== undefined && policy.allowedHosts.has(normalHost(host)))) {
    return undefined;
  }
  if (inAllowedRange(address, policy)) {
    return undefined;
  }
  if (kind === 'private' && policy.allowPrivate) {
    return undefined;
  }
  const what =
    kind === 'private'
      ? 'a loopback, private (RFC 1918), shared (CGNAT) or unique-local address'
      : kind === 'link-local'
        ? 'a link-local address (e.g. a cloud metadata service)'
        : 'a special-purpose address';
  return `${address} is ${what}, which the gateway does not send to (OUTBOUND_ALLOW_PRIVATE, OUTBOUND_ALLOW)`;
}

/**
 * Why the gateway may not open a connection to `address` on `port`: the address's class (addressRefusal), or
 * the gateway's own listening port on a loopback or unspecified address or one of this host's interface addresses
 * (refused even when private addresses are allowed, so a subscriber can never make the gateway call its own admin
 * routes, e.g. through the host's unique-local or private address).
 */
export function connectionRefusal(
  address: string,
  port: number,
  policy: OutboundPolicy,
  host?: string,
): string | undefined {
  if (ipaddr.isValid(unbracket(address)) && port === policy.selfPort) {
    const ip = parseMapped(address);
    const range = ip.range();
    if (range === 'loopback' || range === 'unspecified' || policy.selfAddresses.has(ip.toNormalizedString())) {
      return `${address}:${port} is the gateway itself`;
    }
  }
  return addressRefusal(address, policy, host);
}

/**
 * Why the gateway may not send to `url`, judged without DNS: its own origin, a literal address the policy
 * refuses (in any spelling the WHATWG URL parser normalises: decimal `2130706433`, `[::ffff:127.0.0.1]`), or a
 * `localhost` name (RFC 6761: always loopback). Names are checked again, resolved, when the request is made.
 */
export function urlRefusal(url: URL, policy: OutboundPolicy): string | undefined {
  const host = normalHost(url.hostname);
  const port = effectivePort(url);
  if (`${host}:${port}` === policy.selfOrigin) {
    return `${url.host} is the gateway itself`;
  }
  const literal = unbracket(host);
  if (ipaddr.isValid(literal) && (ipaddr.IPv4.isValidFourPartDecimal(literal) || literal.includes(':'))) {
    return connectionRefusal(literal, Number(port), policy);
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return Number(port) === policy.selfPort
      ? `${url.host} is the gateway itself`
      : policy.allowedHosts.has(host)
        ? undefined
        : addressRefusal('127.0.0.1', policy);
  }
  return undefined;
}

function inAllowedRange(address: string, policy: OutboundPolicy): boolean {
  const candidates = [ipaddr.parse(unbracket(address)), parseMapped(address)];
  return candidates.some((ip) =>
    policy.allowedRanges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits)),
  );
}

/** The address, with an IPv4-mapped IPv6 address (::ffff:a.b.c.d) taken as the IPv4 address it carries. */
function parseMapped(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const ip = ipaddr.parse(unbracket(address));
  return ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() ? ip.toIPv4Address() : ip;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function normalHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}
