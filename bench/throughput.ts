/**
 * Single-process throughput, the numbers issue 16 asks for, in one run: a bare Express JSON echo (the HTTP
 * ceiling) and, as shares of it, FHIR-input discharge letters (a 9-resource document Bundle), native JSON
 * letters and HL7 v2 MDM^T02 over MLLP: accepted/s, delivered/s (until the loopback GP endpoint has every one)
 * and intake p99, at 16 connections. The load generator runs in its own process (bench/load-generator.ts);
 * the gateway, its workers and the GP endpoint share this one. Each step is measured twice, alternating, so
 * a noisy neighbour on the shared machine shows as a spread rather than a wrong ratio.
 *
 *   npm run bench                                   # PostgreSQL at BENCH_POSTGRES_URL if it answers, else PGlite
 *   BENCH_SECONDS=10 BENCH_ROUNDS=2 npm run bench
 *   npm run bench:full                              # the older concurrency sweep and 5-minute soak (bench/run.ts)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startMessageReceiver } from '../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { mapNativeDischargeLetter } from '../src/mappers/discharge-letter/from-native';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { asDocumentBundle } from '../test/helpers/fixtures';
import { testContext } from '../test/helpers/mapping-context';
import { openBenchDb, postgresAnswers } from './bench-db';
import { startExpressEcho } from './express-echo';
import type { LoadJob, LoadResult } from './load-generator';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const connections = 16;
const postgresUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const hospitalKey = DEMO_CLIENTS.find((c) => c.role === 'hospital')!.apiKey;
const adminKey = DEMO_CLIENTS.find((c) => c.role === 'admin')!.apiKey;
const native = readFileSync(join(__dirname, '../test/fixtures/discharge-letter.native.json'), 'utf8');
const fhir = JSON.stringify(
  asDocumentBundle(mapNativeDischargeLetter(JSON.parse(native) as never, testContext(undefined, 'bbbbbbbb'))),
);
const mdm = readFileSync(join(__dirname, '../test/fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');

function load(job: LoadJob): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(__dirname, 'load-generator.ts'), JSON.stringify(job)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => (out += c));
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) {
        resolve(JSON.parse(line) as LoadResult);
      } else {
        reject(new Error(`load generator exited with ${code}: ${out.slice(-300)}`));
      }
    });
  });
}

interface Step {
  input: string;
  accepted: number;
  delivered: number;
  p99: number;
  failed: number;
}

async function main(): Promise<void> {
  const pg = (await postgresAnswers(postgresUrl)) ? postgresUrl : undefined;
  const { db, drop } = await openBenchDb(pg);
  const receiver = await startMessageReceiver();
  const echo = await startExpressEcho();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    RATE_LIMIT_REQUESTS: '100000000',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    WORKER_CONCURRENCY: '64',
    MLLP_PORT: '0',
    MLLP_SENDERS: 'PSYK-EPJ=demo-hospital',
  });
  const gateway = await startGateway(config, {
    db,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const server = gateway.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const answer = await fetch(`${base}/fhir`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(directoryBundle(receiver.url)),
  });
  if (!answer.ok) {
    throw new Error(`directory load failed: ${answer.status}`);
  }
  const letters = (type: string, body: string, s = seconds): LoadJob => ({
    kind: 'http',
    url: `${base}/discharge-letters`,
    body,
    headers: { authorization: `Bearer ${hospitalKey}`, 'content-type': type },
    connections,
    seconds: s,
  });
  const jobs: Record<string, (s?: number) => LoadJob> = {
    'Express echo (native body)': (s) => ({
      kind: 'http',
      url: echo.url,
      body: native,
      headers: { 'content-type': 'application/json' },
      connections,
      seconds: s ?? seconds,
    }),
    'FHIR document Bundle (9 resources)': (s) => letters('application/fhir+json', fhir, s),
    'native JSON letter': (s) => letters('application/json', native, s),
    'HL7 v2 MDM^T02 over MLLP': (s) => ({
      kind: 'mllp',
      port: gateway.mllp?.port ?? 0,
      template: mdm,
      connections,
      seconds: s ?? seconds,
    }),
  };
  // Warm-up: JIT, schema compilation, pools.
  for (const job of Object.values(jobs)) {
    await load(job(2));
  }
  await receiver.waitFor(0);
  const steps: Step[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [input, job] of Object.entries(jobs)) {
      const isEcho = input.startsWith('Express');
      const before = receiver.unique.size;
      const started = Date.now();
      const r = await load(job());
      let delivered = r.ok / seconds;
      if (!isEcho) {
        await receiver.waitFor(before + r.ok, 300000);
        delivered = r.ok / ((Date.now() - started) / 1000);
      }
      steps.push({ input, accepted: r.ok / seconds, delivered, p99: r.p99, failed: r.failed });
    }
  }
  const echoRate = (round: number) => steps[round * Object.keys(jobs).length]!.accepted;
  console.log(
    `\nSektorbro throughput, node ${process.version}, ${db.kind}, ${connections} connections, ${seconds} s per step, ` +
      `load generator in its own process, ${rounds} rounds\n`,
  );
  console.log(
    '| round | input | accepted/s | delivered/s | intake p99 ms | failed | accepted % of echo | delivered % of echo |',
  );
  console.log('| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: |');
  steps.forEach((s, i) => {
    const round = Math.floor(i / Object.keys(jobs).length);
    const e = echoRate(round);
    console.log(
      `| ${round + 1} | ${s.input} | ${s.accepted.toFixed(0)} | ${s.delivered.toFixed(0)} | ${s.p99.toFixed(0)} | ${s.failed} | ` +
        `${((s.accepted / e) * 100).toFixed(1)} % | ${((s.delivered / e) * 100).toFixed(1)} % |`,
    );
  });
  server.close();
  await gateway.queue.obliterate({ force: true });
  await gateway.close();
  await drop();
  await db.close();
  await receiver.close();
  await echo.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
