import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

/**
 * A bare Express 5 JSON echo on loopback: the HTTP ceiling the gateway's intake is set beside. It parses the
 * body with express.json() and sends it back, so it pays the same socket, HTTP and JSON parse/serialise cost
 * as a request to the gateway and nothing else (no auth, validation, mapping, database or queue).
 */
export async function startExpressEcho(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  // The same body limit the gateway would need for a letter; express.json's 100 kB default is ample for the fixture.
  app.use(express.json({ limit: '1mb' }));
  app.post('/echo', (req, res) => {
    res.json(req.body);
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
