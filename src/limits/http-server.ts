import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Limits } from '../config';

/**
 * The gateway's HTTP server with limits for slow and idle clients (Node's defaults hold a slowly sent request
 * for 5 minutes): headers must arrive within `headersTimeoutMs` and the whole request, body included, within
 * `requestTimeoutMs` (Node answers 408 and closes the connection); idle kept-alive connections close after
 * `keepAliveTimeoutMs`; at most `maxConnections` connections are open, and at most `maxConnectionsPerAddress`
 * from one source address (more are closed at once), so half-open connections cannot exhaust the process.
 * Node checks the request timeouts every `connectionsCheckingInterval`: a second here, not its default 30 s.
 */
export function createHttpServer(app: RequestListener, limits: Limits): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    app,
  );
  server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) {
        perAddress.set(address, left);
      } else {
        perAddress.delete(address);
      }
    });
  });
  return server;
}
