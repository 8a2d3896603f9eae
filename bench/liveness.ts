/**
 * Liveness under a heavy request: posts one large document to `$convert` (and to /discharge-letters) and
 * asks /health/live every 50 ms meanwhile; prints the big request's status and time and the slowest liveness
 * answer. `npx tsx bench/liveness.ts [megabytes]`.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { createTestDb } from '../test/helpers/test-db';
import { directoryBundle } from '../test/helpers/directory-fixture';
import letter from '../examples/discharge-letter.json';
import { requestExamples } from '../src/validation/request-schemas';

const megabytes = Number(process.argv[2] ?? 9);
const key = (role: string) => DEMO_CLIENTS.find((c) => c.role === role)!.apiKey;

/** Shapes of a large document: one big PDF attachment, and a long course text. */
function bodies(bytes: number): Record<string, string> {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(Math.floor((bytes * 3) / 4))]).toString('base64');
  const words = 'Patienten har det bedre i dag og sover om natten. ';
  const fhir = requestExamples().find(
    (e) => e.path === '/discharge-letters' && e.contentType === 'application/fhir+json',
  )!.value as {
    entry: Array<{ fullUrl: string; resource: { resourceType: string; id?: string; text?: { div: string } } }>;
  };
  // Many resources: copies of the document's diagnosis (Condition), each with its own id.
  const condition = fhir.entry.find((e) => e.resource.resourceType === 'Condition')!;
  const copies: typeof fhir.entry = [];
  const size = JSON.stringify(condition).length;
  for (let i = 0; i < bytes / size; i += 1) {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    copies.push({ fullUrl: `urn:uuid:${id}`, resource: { ...condition.resource, id } });
  }
  const many = { ...fhir, entry: [...fhir.entry, ...copies] };
  // One long narrative: the Composition's text.
  const long = structuredClone(fhir);
  const composition = long.entry[0]!.resource;
  composition.text = {
    div: `<div xmlns="http://www.w3.org/1999/xhtml">${'<p>Patienten har det bedre i dag og sover om natten.</p>'.repeat(bytes / 56)}</div>`,
  };
  return {
    'FHIR, many resources': JSON.stringify(many),
    'FHIR, long narrative': JSON.stringify(long),
    attachment: JSON.stringify({
      ...letter,
      attachments: [{ contentType: 'application/pdf', data: pdf, title: 'Epikrise' }],
    }),
    'long text': JSON.stringify({ ...letter, course: words.repeat(Math.floor(bytes / words.length)) }),
  };
}

/**
 * Polls /health/live every 50 ms on a fresh connection each time, in a worker thread: its own event loop, so
 * a gateway stalled by the big request cannot also stall the clock that measures it.
 */
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const { get } = require('node:http');
let done = false, slowest = 0, answers = 0;
parentPort.on('message', () => { done = true; });
(async () => {
  while (!done) {
    const started = Date.now();
    await new Promise((resolve) => get(workerData, { agent: false }, (res) => { res.resume(); res.on('end', resolve); }).on('error', resolve));
    slowest = Math.max(slowest, Date.now() - started);
    answers += 1;
    await new Promise((r) => setTimeout(r, 50));
  }
  parentPort.postMessage({ slowest, answers });
})();
`;

async function main(): Promise<void> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: `bench-live-${randomBytes(4).toString('hex')}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    RUN_WORKERS: 'false',
  });
  const db = await createTestDb();
  const gateway = await startGateway(config, { db, logger: createLogger('silent'), metrics: createMetrics() });
  const server = gateway.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await fetch(`${base}/fhir`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key('admin')}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(directoryBundle('http://127.0.0.1:9/fhir')),
  });
  console.log(`Liveness while one ${megabytes} MB document is processed (node ${process.version})`);
  console.log('| route | shape | status | request s | slowest /health/live s | live answers |');
  console.log('|---|---|---|---|---|---|');
  for (const path of ['/$convert', '/discharge-letters']) {
    for (const [shape, body] of Object.entries(bodies(megabytes * 1024 * 1024))) {
      const poller = new Worker(POLLER, { eval: true, workerData: `${base}/health/live` });
      const polled = new Promise<{ slowest: number; answers: number }>((resolve) => poller.once('message', resolve));
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key('hospital')}`,
          'content-type': shape.startsWith('FHIR') ? 'application/fhir+json' : 'application/json',
        },
        body,
      });
      await res.text();
      const took = Date.now() - started;
      poller.postMessage('stop');
      const { slowest, answers } = await polled;
      await poller.terminate();
      console.log(
        `| ${path} | ${shape} | ${res.status} | ${(took / 1000).toFixed(2)} | ${(slowest / 1000).toFixed(2)} | ${answers} |`,
      );
    }
  }
  server.close();
  await gateway.close();
  await db.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
