import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config';
import { createHttpServer } from '../../src/limits/http-server';
import { close, listen, send } from './http-client';

/**
 * Issue 12, "No limits": a slowly sent body was held for about 5 minutes and 1,000 half-open connections were
 * accepted. The gateway's server cuts off slow headers and slow bodies and caps connections per address.
 * (Short limits here; the defaults are in src/config.ts.)
 */
const limits = loadConfig({
  HEADERS_TIMEOUT_MS: '300',
  REQUEST_TIMEOUT_MS: '600',
  KEEP_ALIVE_TIMEOUT_MS: '300',
  MAX_CONNECTIONS_PER_ADDRESS: '3',
}).limits;

function open(server: Server, from: string): Promise<Socket> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => {
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function untilClosed(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return new Promise((resolve) =>
    socket.once('close', () => {
      resolve(text);
    }),
  );
}

describe('slow and idle clients', () => {
  let server: Server;
  beforeAll(async () => {
    server = await listen(
      createHttpServer((req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      }, limits),
    );
  });
  afterAll(async () => {
    await close(server);
  });

  it('closes a connection whose headers never finish', async () => {
    const socket = await open(server, '127.0.0.4');
    socket.write('POST /discharge-letters HTTP/1.1\r\nHost: x\r\n');
    const answer = await untilClosed(socket);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('cuts off a body that is sent too slowly with 408', async () => {
    const socket = await open(server, '127.0.0.5');
    socket.write(
      'POST /discharge-letters HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":',
    );
    const answer = await untilClosed(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps the connections one address may hold open; other addresses are served', async () => {
    const held = await Promise.all([1, 2, 3].map(() => open(server, '127.0.0.6')));
    const extra = await open(server, '127.0.0.6');
    extra.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await untilClosed(extra)).toBe('');
    expect((await send(server, { path: '/', from: '127.0.0.7' })).body).toBe('ok');
    for (const socket of held) {
      socket.destroy();
    }
  });
});
