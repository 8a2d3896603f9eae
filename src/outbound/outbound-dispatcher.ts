import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { addressRefusal, connectionRefusal, urlRefusal, type OutboundPolicy } from './address-policy';

/**
 * The HTTP dispatcher every request on someone else's behalf goes through (rest-hook notifications, deliveries
 * to directory endpoints), given to fetch as `dispatcher`. It enforces the outbound policy where it counts, on
 * the connection: a host name is resolved once and only the addresses the policy allows are connected to (so a
 * DNS answer that changes between check and use, DNS rebinding, cannot slip a private address in), and every
 * connected socket's peer address is checked again before a byte is sent (literal addresses, which are not
 * looked up, included). A refusal fails the request like an unreachable host: `OutboundRefusedError` as cause.
 */
export class OutboundRefusedError extends Error {
  readonly code = 'OUTBOUND_ADDRESS_REFUSED';
  constructor(reason: string) {
    super(reason);
    this.name = 'OutboundRefusedError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** How host names are resolved: dns.lookup (the system resolver, as Node's own connections use) by default. */
export type HostResolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** An undici Agent that connects only where `policy` allows. `resolve` is for tests (a name that rebinds). */
export function createOutboundDispatcher(policy: OutboundPolicy, resolve: HostResolver = dnsLookup): Dispatcher {
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      // The port is not known here; the gateway's own port is checked on the connected socket.
      const allowed = addresses.filter((a) => addressRefusal(a.address, policy, hostname) === undefined);
      if (allowed.length === 0) {
        const reason = addresses.map((a) => addressRefusal(a.address, policy, hostname)).join('; ');
        callback(new OutboundRefusedError(`${hostname} resolves only to refused addresses: ${reason}`), []);
        return;
      }
      if (options.all) {
        callback(null, allowed);
      } else {
        const first = allowed[0] as LookupAddress;
        callback(null, first.address, first.family);
      }
    });
  };
  const connect = buildConnector({ lookup });
  return new Agent({
    connect(options, callback) {
      connect(options, (err, socket) => {
        if (err || !socket) {
          callback(err ?? new Error('no socket'), null);
          return;
        }
        const peer = socket.remoteAddress ?? '';
        const refused = connectionRefusal(peer, Number(socket.remotePort), policy, options.hostname);
        if (refused) {
          socket.destroy();
          callback(new OutboundRefusedError(refused), null);
          return;
        }
        callback(null, socket);
      });
    },
  });
}

/**
 * Checks a URL before a request is made (the gateway's own origin, literal addresses, `localhost`), and throws
 * OutboundRefusedError when the policy refuses it; the dispatcher checks the resolved addresses.
 */
export function assertOutboundUrl(url: string, policy: OutboundPolicy): void {
  const refused = urlRefusal(new URL(url), policy);
  if (refused) {
    throw new OutboundRefusedError(refused);
  }
}
