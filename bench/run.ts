/**
 * End-to-end benchmark: posts discharge letters at several concurrencies against a gateway on loopback,
 * waits until a local GP endpoint has them all, and prints accepted/s, delivered/s and latencies next to
 * the raw BullMQ add-and-process ceiling measured in the same run on the same Redis.
 *
 *   npm run bench                      # embedded PGlite (in memory)
 *   DATABASE_URL=postgres://... npm run bench
 *   BENCH_SECONDS=10 BENCH_CONCURRENCY=1,16,64 npm run bench
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { startMessageReceiver } from '../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { openBenchDb } from './bench-db';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const hospitalKey = DEMO_CLIENTS.find((c) => c.role === 'hospital')!.apiKey;
const adminKey = DEMO_CLIENTS.find((c) => c.role === 'admin')!.apiKey;
const letter = readFileSync(join(__dirname, '../test/fixtures/discharge-letter.native.json'), 'utf8');

async function bullmqCeiling(concurrency: number, jobs: number): Promise<number> {
  const prefix = `bench-raw-${randomBytes(4).toString('hex')}`;
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  const worker = new Worker('raw', () => {
    done += 1;
    if (done === jobs) { finish(); }
    return Promise.resolve();
  }, { connection: new IORedis(redisUrl, { maxRetriesPerRequest: null }), prefix, concurrency: Math.max(concurrency, 1) });
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < jobs) {
      next += 1;
      await queue.add('job', { deliveryId: randomBytes(8).toString('hex') }, { removeOnComplete: true });
    }
  }));
  await finished;
  const rate = jobs / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  return rate;
}

async function main(): Promise<void> {
  const receiver = await startMessageReceiver();
  const { db, drop } = await openBenchDb();
  const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: redisUrl, QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`, WORKER_CONCURRENCY: '64' });
  const gateway = await startGateway(config, { db, logger: createLogger('silent'), metrics: createMetrics({ defaultMetrics: false }) });
  const server = gateway.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const load = await fetch(`${base}/fhir`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(directoryBundle(receiver.url)) });
  if (!load.ok) { throw new Error(`directory load failed: ${load.status}`); }

  console.log(`Sektorbro benchmark: ${db.kind}, ${seconds}s per step, node ${process.version}`);
  console.log('concurrency | accepted/s | intake p50 ms | intake p99 ms | delivered/s | e2e p50 ms | e2e p99 ms | non-2xx | BullMQ ceiling jobs/s');
  for (const concurrency of concurrencies) {
    await db.query('DELETE FROM audit_events');
    const before = receiver.unique.size;
    const started = Date.now();
    const result = await autocannon({
      url: `${base}/discharge-letters`,
      method: 'POST',
      connections: concurrency,
      duration: seconds,
      headers: { authorization: `Bearer ${hospitalKey}`, 'content-type': 'application/json' },
      body: letter,
    });
    const accepted = result['2xx'];
    await receiver.waitFor(before + accepted, 120000);
    const deliveredSeconds = (Date.now() - started) / 1000;
    const rows = await db.query<{ p50: number; p99: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
         FROM (SELECT EXTRACT(EPOCH FROM (d.delivered_at - m.created_at)) * 1000 AS ms FROM deliveries d JOIN messages m ON m.id = d.message_id
               WHERE m.created_at >= $1) x`,
      [new Date(started).toISOString()],
    );
    const ceiling = await bullmqCeiling(concurrency, Math.max(2000, accepted));
    console.log([
      String(concurrency).padStart(11),
      (accepted / seconds).toFixed(0).padStart(10),
      result.latency.p50.toFixed(1).padStart(13),
      result.latency.p99.toFixed(1).padStart(13),
      (accepted / deliveredSeconds).toFixed(0).padStart(11),
      (rows[0]?.p50 ?? 0).toFixed(1).padStart(10),
      (rows[0]?.p99 ?? 0).toFixed(1).padStart(10),
      String(result.non2xx).padStart(7),
      ceiling.toFixed(0).padStart(21),
    ].join(' | '));
  }
  server.close();
  await gateway.queue.obliterate({ force: true });
  await gateway.close();
  await drop();
  await db.close();
  await receiver.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
