/**
 * Soak: discharge letters at a steady concurrency for minutes against one gateway, sampling this process's
 * memory and the cumulative accepted/delivered counts as it goes. bench/run.ts starts it as a child process so
 * the memory it reports is this gateway's (plus its load generator) and not what the earlier steps left on the
 * heap; it prints one JSON line (SoakReport) on stdout at the end and its progress on stderr.
 *
 *   npx tsx bench/soak.ts                                            # PGlite in memory
 *   BENCH_SOAK_DB=postgres://postgres@127.0.0.1:5432/test BENCH_SOAK_SECONDS=300 npx tsx bench/soak.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { Bundle } from 'fhir/r4';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { buildAcknowledgement } from '../src/mappers/message/acknowledgement';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { openBenchDb } from './bench-db';

export interface SoakSample {
  /** Seconds since the load started; the last sample is taken once every accepted letter is delivered. */
  elapsedSeconds: number;
  phase: 'start' | 'load' | 'drained';
  rssMb: number;
  heapUsedMb: number;
  accepted: number;
  delivered: number;
  /** Letters accepted per second since the previous sample. */
  acceptedPerSecond: number;
}

export interface SoakReport {
  db: string;
  seconds: number;
  sampleSeconds: number;
  concurrency: number;
  accepted: number;
  delivered: number;
  non2xx: number;
  intakeP50: number;
  intakeP99: number;
  samples: SoakSample[];
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/**
 * A GP endpoint that acknowledges every message ok and keeps nothing: the test receiver remembers each
 * message, which over a soak would be the largest thing on the heap and hide the gateway's own trend.
 */
async function startLeanReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  let url = '';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bundle = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Bundle;
      res
        .writeHead(200, { 'content-type': 'application/fhir+json' })
        .end(
          JSON.stringify(
            buildAcknowledgement(bundle, 'ok', { now: new Date(), newId: randomUUID, gatewayEndpoint: url }),
          ),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function main(): Promise<void> {
  const dbUrl = process.env.BENCH_SOAK_DB || undefined;
  const seconds = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
  const sampleSeconds = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 15);
  const concurrency = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 16);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const hospitalKey = DEMO_CLIENTS.find((c) => c.role === 'hospital')!.apiKey;
  const adminKey = DEMO_CLIENTS.find((c) => c.role === 'admin')!.apiKey;
  const letter = readFileSync(join(__dirname, '../test/fixtures/discharge-letter.native.json'), 'utf8');

  const receiver = await startLeanReceiver();
  const { db, drop } = await openBenchDb(dbUrl);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    // The benchmark measures throughput, not the per-client rate limit.
    RATE_LIMIT_REQUESTS: '100000000',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `bench-soak-${randomBytes(4).toString('hex')}`,
    WORKER_CONCURRENCY: '64',
  });
  const gateway = await startGateway(config, {
    db,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const server = gateway.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const load = await fetch(`${base}/fhir`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(directoryBundle(receiver.url)),
  });
  if (!load.ok) {
    throw new Error(`directory load failed: ${load.status}`);
  }

  // Delivered is the gateway's own record (a delivery is marked delivered only on an ok acknowledgement), so the
  // receiver need not count and a resend after a timeout is not counted twice.
  const deliveredCount = async (): Promise<number> =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`))[0]?.n ?? 0;

  let accepted = 0;
  const samples: SoakSample[] = [];
  let started = performance.now();
  const sample = async (phase: SoakSample['phase']): Promise<void> => {
    const elapsedSeconds = (performance.now() - started) / 1000;
    const memory = process.memoryUsage();
    const previous = samples[samples.length - 1];
    const s: SoakSample = {
      elapsedSeconds: Math.round(elapsedSeconds * 10) / 10,
      phase,
      rssMb: mb(memory.rss),
      heapUsedMb: mb(memory.heapUsed),
      accepted,
      delivered: await deliveredCount(),
      acceptedPerSecond:
        previous && elapsedSeconds > previous.elapsedSeconds
          ? (accepted - previous.accepted) / (elapsedSeconds - previous.elapsedSeconds)
          : 0,
    };
    samples.push(s);
    console.error(
      `soak ${s.phase.padEnd(7)} ${s.elapsedSeconds.toFixed(0).padStart(5)} s  rss ${s.rssMb.toFixed(1).padStart(7)} MB  heap ${s.heapUsedMb.toFixed(1).padStart(7)} MB  accepted ${String(s.accepted).padStart(8)}  delivered ${String(s.delivered).padStart(8)}  ${s.acceptedPerSecond.toFixed(0).padStart(6)}/s`,
    );
  };

  console.error(`soak: ${db.kind}, ${seconds}s at concurrency ${concurrency}, a sample every ${sampleSeconds}s`);
  started = performance.now();
  await sample('start');
  // Samples are chained rather than overlapped: a slow count under load must not pile queries onto the pool.
  let sampling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(() => sample('load'));
  }, sampleSeconds * 1000);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${base}/discharge-letters`,
        method: 'POST',
        connections: concurrency,
        duration: seconds,
        headers: { authorization: `Bearer ${hospitalKey}`, 'content-type': 'application/json' },
        body: letter,
      },
      (err: unknown, r: autocannon.Result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error('autocannon failed', { cause: err }));
        } else {
          resolve(r);
        }
      },
    );
    instance.on('response', (_client, statusCode) => {
      if (statusCode >= 200 && statusCode < 300) {
        accepted += 1;
      }
    });
  });
  clearInterval(timer);
  await sampling;
  // Let the queue drain so the last row shows whether delivery kept up and what memory settles at.
  const drainUntil = performance.now() + 120000;
  while ((await deliveredCount()) < accepted && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 500));
  }
  await sample('drained');

  const last = samples[samples.length - 1]!;
  const report: SoakReport = {
    db: db.kind,
    seconds,
    sampleSeconds,
    concurrency,
    accepted,
    delivered: last.delivered,
    non2xx: result.non2xx,
    intakeP50: result.latency.p50,
    intakeP99: result.latency.p99,
    samples,
  };
  server.close();
  await gateway.queue.obliterate({ force: true });
  await gateway.close();
  await drop();
  await db.close();
  await receiver.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
