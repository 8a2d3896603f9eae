/**
 * End-to-end benchmark: posts discharge letters at several concurrencies against a gateway on loopback,
 * waits until a local GP endpoint has them all, and reports accepted/s, delivered/s and latencies next to two
 * ceilings measured in the same run: a bare Express JSON echo (HTTP) and raw BullMQ add-and-process (queue).
 * It does this for embedded PGlite and, when one answers, for PostgreSQL; then soaks one gateway for minutes
 * while sampling its memory, and writes everything to bench/README.md.
 *
 *   npm run bench                      # PGlite (in memory), PostgreSQL at BENCH_POSTGRES_URL if it answers
 *   BENCH_POSTGRES_URL=postgres://... npm run bench
 *   BENCH_SECONDS=10 BENCH_CONCURRENCY=1,16,64 BENCH_SOAK_SECONDS=300 BENCH_SOAK_SAMPLE_SECONDS=15 npm run bench
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
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
import { openBenchDb, postgresAnswers } from './bench-db';
import { startExpressEcho } from './express-echo';
import type { SoakReport } from './soak';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const postgresUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const soakSampleSeconds = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 15);
const soakConcurrency = 16;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const hospitalKey = DEMO_CLIENTS.find((c) => c.role === 'hospital')!.apiKey;
const adminKey = DEMO_CLIENTS.find((c) => c.role === 'admin')!.apiKey;
const letter = readFileSync(join(__dirname, '../test/fixtures/discharge-letter.native.json'), 'utf8');
const reportPath = join(__dirname, 'README.md');
/** Letters sent before the first measured step: the first requests pay for JIT, schema compilation and pool warm-up. */
const WARMUP_REQUESTS = 200;

/** The targets the issue sets for the PostgreSQL setup. */
const TARGET_PER_SECOND = 1000;
const TARGET_P99_MS = 50;
const TARGET_P99_CONCURRENCY = 16;
const TARGET_CEILING_SHARE = 0.5;

interface Row {
  concurrency: number;
  acceptedPerSecond: number;
  intakeP50: number;
  intakeP99: number;
  deliveredPerSecond: number;
  e2eP50: number;
  e2eP99: number;
  non2xx: number;
  echoPerSecond: number;
  echoP99: number;
  ceiling: number;
}

interface DbResult {
  label: string;
  /** Why this database was not measured, when it was not. */
  skipped?: string;
  version?: string;
  rows: Row[];
}

async function bullmqCeiling(concurrency: number, jobs: number): Promise<number> {
  const prefix = `bench-raw-${randomBytes(4).toString('hex')}`;
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  let done = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const workerConnection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    'raw',
    () => {
      done += 1;
      if (done === jobs) {
        finish();
      }
      return Promise.resolve();
    },
    { connection: workerConnection, prefix, concurrency: Math.max(concurrency, 1) },
  );
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs) {
        next += 1;
        await queue.add('job', { deliveryId: randomBytes(8).toString('hex') }, { removeOnComplete: true });
      }
    }),
  );
  await finished;
  const rate = jobs / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  // BullMQ does not quit connections it was given; leaving them open would leak two per row.
  await connection.quit();
  await workerConnection.quit();
  return rate;
}

/** Posts the letter fixture to `url` as the hospital, for `seconds` or for a number of requests. */
function postLetters(
  url: string,
  connections: number,
  length: { duration: number } | { amount: number },
): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    ...length,
    headers: { authorization: `Bearer ${hospitalKey}`, 'content-type': 'application/json' },
    body: letter,
  });
}

/** The HTTP ceiling: the same body, headers and concurrency against an Express app that only parses and echoes. */
async function expressEcho(url: string, concurrency: number): Promise<{ perSecond: number; p99: number }> {
  const result = await postLetters(url, concurrency, { duration: seconds });
  return { perSecond: result['2xx'] / seconds, p99: result.latency.p99 };
}

const HEADER = [
  'concurrency',
  'accepted/s',
  'intake p50 ms',
  'intake p99 ms',
  'delivered/s',
  'e2e p50 ms',
  'e2e p99 ms',
  'non-2xx',
  'Express echo req/s',
  'echo p99 ms',
  'BullMQ ceiling jobs/s',
  'accepted % of ceiling',
];

/** autocannon records whole milliseconds, so 0 means under one, not none. */
const ms = (v: number): string => (v < 1 ? '< 1' : v.toFixed(1));

function cells(r: Row): string[] {
  return [
    String(r.concurrency),
    r.acceptedPerSecond.toFixed(0),
    ms(r.intakeP50),
    ms(r.intakeP99),
    r.deliveredPerSecond.toFixed(0),
    ms(r.e2eP50),
    ms(r.e2eP99),
    String(r.non2xx),
    r.echoPerSecond.toFixed(0),
    ms(r.echoP99),
    r.ceiling.toFixed(0),
    `${((r.acceptedPerSecond / r.ceiling) * 100).toFixed(1)}%`,
  ];
}

function printRow(values: string[]): void {
  console.log(values.map((v, i) => v.padStart(HEADER[i]!.length)).join(' | '));
}

const markdownRow = (values: string[]): string => `| ${values.join(' | ')} |`;

/** A URL fit for the report: a password given in BENCH_POSTGRES_URL must not end up in a committed file. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '***';
    }
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function benchDatabase(label: string, url: string | undefined, echoUrl: string): Promise<DbResult> {
  const receiver = await startMessageReceiver();
  const { db, drop } = await openBenchDb(url);
  const version = db.kind === 'postgres' ? (await db.query<{ v: string }>('SELECT version() AS v'))[0]?.v : undefined;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    // The benchmark measures throughput, not the per-client rate limit.
    RATE_LIMIT_REQUESTS: '100000000',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
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
  const warm = await postLetters(`${base}/discharge-letters`, 4, { amount: WARMUP_REQUESTS });
  await receiver.waitFor(warm['2xx'], 120000);
  await postLetters(echoUrl, 4, { amount: WARMUP_REQUESTS });

  console.log(`\nSektorbro benchmark: ${label} (${db.kind}), ${seconds}s per step, node ${process.version}`);
  console.log(HEADER.join(' | '));
  const rows: Row[] = [];
  for (const concurrency of concurrencies) {
    await db.query('DELETE FROM audit_events');
    const before = receiver.unique.size;
    const started = Date.now();
    const result = await postLetters(`${base}/discharge-letters`, concurrency, { duration: seconds });
    const accepted = result['2xx'];
    await receiver.waitFor(before + accepted, 120000);
    const deliveredSeconds = (Date.now() - started) / 1000;
    const latencies = await db.query<{ p50: number; p99: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
         FROM (SELECT EXTRACT(EPOCH FROM (d.delivered_at - m.created_at)) * 1000 AS ms FROM deliveries d JOIN messages m ON m.id = d.message_id
               WHERE m.created_at >= $1) x`,
      [new Date(started).toISOString()],
    );
    // Both ceilings run after the gateway has drained, so neither competes with it for the two cores.
    const echo = await expressEcho(echoUrl, concurrency);
    const ceiling = await bullmqCeiling(concurrency, Math.max(2000, accepted));
    const row: Row = {
      concurrency,
      acceptedPerSecond: accepted / seconds,
      intakeP50: result.latency.p50,
      intakeP99: result.latency.p99,
      deliveredPerSecond: accepted / deliveredSeconds,
      e2eP50: latencies[0]?.p50 ?? 0,
      e2eP99: latencies[0]?.p99 ?? 0,
      non2xx: result.non2xx,
      echoPerSecond: echo.perSecond,
      echoP99: echo.p99,
      ceiling,
    };
    rows.push(row);
    printRow(cells(row));
  }
  server.close();
  await gateway.queue.obliterate({ force: true });
  await gateway.close();
  await drop();
  await db.close();
  await receiver.close();
  return { label, ...(version ? { version } : {}), rows };
}

/** The soak runs in a child process so the memory it samples is one gateway's, not this process's history. */
async function soak(dbUrl: string | undefined): Promise<SoakReport> {
  const child = spawn(process.execPath, [...process.execArgv, join(__dirname, 'soak.ts')], {
    env: {
      ...process.env,
      BENCH_SOAK_DB: dbUrl ?? '',
      BENCH_SOAK_SECONDS: String(soakSeconds),
      BENCH_SOAK_SAMPLE_SECONDS: String(soakSampleSeconds),
      BENCH_SOAK_CONCURRENCY: String(soakConcurrency),
      REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    stdout += c;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    throw new Error(`soak exited with ${code}: ${stdout.slice(-500)}`);
  }
  return JSON.parse(line) as SoakReport;
}

function soakTable(report: SoakReport): string[] {
  return [
    markdownRow([
      'elapsed s',
      'phase',
      'rss MB',
      'heapUsed MB',
      'accepted (cumulative)',
      'delivered (cumulative)',
      'accepted/s since previous',
    ]),
    markdownRow(['---:', ':---', '---:', '---:', '---:', '---:', '---:']),
    ...report.samples.map((s) =>
      markdownRow([
        s.elapsedSeconds.toFixed(0),
        s.phase,
        s.rssMb.toFixed(1),
        s.heapUsedMb.toFixed(1),
        String(s.accepted),
        String(s.delivered),
        s.phase === 'load' ? s.acceptedPerSecond.toFixed(0) : '–',
      ]),
    ),
  ];
}

const verdict = (met: boolean): string => (met ? '**met**' : '**not met**');

/** Each target of the issue with the measured value and whether it is met, computed from this run's PostgreSQL rows. */
function targetLines(postgres: DbResult | undefined): string[] {
  if (!postgres || postgres.skipped || postgres.rows.length === 0) {
    return [
      `PostgreSQL was not measured in this run (${postgres?.skipped ?? 'no rows'}), so the targets are not assessed.`,
    ];
  }
  const rows = postgres.rows;
  const best = (pick: (r: Row) => number): Row => rows.reduce((a, b) => (pick(b) > pick(a) ? b : a));
  const bestAccepted = best((r) => r.acceptedPerSecond);
  const bestDelivered = best((r) => r.deliveredPerSecond);
  const atTarget = rows.find((r) => r.concurrency === TARGET_P99_CONCURRENCY);
  const shares = rows.map((r) => ({ concurrency: r.concurrency, share: r.acceptedPerSecond / r.ceiling }));
  const lowestShare = Math.min(...shares.map((s) => s.share));
  return [
    markdownRow(['target (PostgreSQL)', 'measured', 'result']),
    markdownRow([':---', ':---', ':---']),
    markdownRow([
      `≥ ${TARGET_PER_SECOND} letters/s accepted`,
      `${bestAccepted.acceptedPerSecond.toFixed(0)}/s (best, at concurrency ${bestAccepted.concurrency})`,
      verdict(bestAccepted.acceptedPerSecond >= TARGET_PER_SECOND),
    ]),
    markdownRow([
      `≥ ${TARGET_PER_SECOND} letters/s delivered`,
      `${bestDelivered.deliveredPerSecond.toFixed(0)}/s (best, at concurrency ${bestDelivered.concurrency})`,
      verdict(bestDelivered.deliveredPerSecond >= TARGET_PER_SECOND),
    ]),
    atTarget
      ? markdownRow([
          `intake p99 < ${TARGET_P99_MS} ms at concurrency ${TARGET_P99_CONCURRENCY}`,
          `${atTarget.intakeP99.toFixed(1)} ms`,
          verdict(atTarget.intakeP99 < TARGET_P99_MS),
        ])
      : markdownRow([
          `intake p99 < ${TARGET_P99_MS} ms at concurrency ${TARGET_P99_CONCURRENCY}`,
          `not measured (${TARGET_P99_CONCURRENCY} is not in BENCH_CONCURRENCY)`,
          '**not assessed**',
        ]),
    markdownRow([
      `accepted/s ≥ ${TARGET_CEILING_SHARE * 100}% of the BullMQ ceiling (at every concurrency)`,
      shares.map((s) => `${(s.share * 100).toFixed(1)}% at ${s.concurrency}`).join(', '),
      verdict(lowestShare >= TARGET_CEILING_SHARE),
    ]),
  ];
}

const PROFILE_OPEN = '<!-- profile -->';
const PROFILE_CLOSE = '<!-- /profile -->';

/** What a person wrote between the profile markers last time: the bench rewrites the numbers, never that. */
function keptProfileNotes(): string {
  if (existsSync(reportPath)) {
    const old = readFileSync(reportPath, 'utf8');
    const start = old.indexOf(PROFILE_OPEN);
    const end = old.indexOf(PROFILE_CLOSE);
    if (start >= 0 && end > start) {
      return old.slice(start + PROFILE_OPEN.length, end).trim();
    }
  }
  return '<!-- profile notes -->';
}

function writeReport(results: DbResult[], soakReport: SoakReport, soakNote: string, startedAt: Date): void {
  const cpus = os.cpus();
  const lines: string[] = [
    '# Sektorbro benchmark',
    '',
    '<!-- Written by `npm run bench:full` (bench/run.ts). Everything outside the profile block below is overwritten on every run. -->',
    '',
    `- Date: ${startedAt.toISOString()}`,
    `- Node: ${process.version} on ${os.type()} ${os.release()} (${os.arch()})`,
    `- CPU: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    `- Memory: ${(os.totalmem() / 1073741824).toFixed(1)} GiB`,
    `- Redis: ${redact(redisUrl)}`,
    ...results.filter((r) => r.version).map((r) => `- ${r.label}: ${r.version ?? ''}`),
    `- Run: ${seconds} s per step, concurrency ${concurrencies.join(', ')}; soak ${soakSeconds} s at concurrency ${soakConcurrency}, a sample every ${soakSampleSeconds} s`,
    '',
    '## Reproduce',
    '',
    '```sh',
    '# Redis on 127.0.0.1:6379 and (optionally) PostgreSQL at BENCH_POSTGRES_URL, then:',
    'npm run bench',
    `BENCH_POSTGRES_URL=${redact(postgresUrl)} BENCH_SECONDS=8 BENCH_CONCURRENCY=1,16,64 \\`,
    '  BENCH_SOAK_SECONDS=300 BENCH_SOAK_SAMPLE_SECONDS=15 npm run bench',
    '# the soak alone:',
    `BENCH_SOAK_DB=${redact(postgresUrl)} BENCH_SOAK_SECONDS=300 npx tsx bench/soak.ts`,
    '```',
    '',
    '## How it is measured',
    '',
    `- accepted/s: 2xx answers to \`POST /discharge-letters\` (the native fixture, ${Buffer.byteLength(letter)} bytes) per second of load, from autocannon; intake p50/p99 is autocannon's request latency (whole milliseconds). Each gateway and the echo get ${WARMUP_REQUESTS} unmeasured warm-up requests first.`,
    '- delivered/s: accepted letters divided by the time from the start of the load until the loopback GP endpoint has every one of them; e2e p50/p99 is `deliveries.delivered_at − messages.created_at` for that step.',
    '- Express echo: a bare Express 5 app (`express.json()`, POST echoes the body) driven by the same autocannon settings and body: the HTTP ceiling.',
    '- BullMQ ceiling: raw `Queue.add` by as many producers as the concurrency, with a Worker of that concurrency doing nothing, on the same Redis: the queue ceiling. Both ceilings run after the gateway step has drained.',
    "- Load generator, gateway (HTTP, relay and delivery worker) and GP endpoint share one Node process and the machine's cores with Redis and the database; the echo is measured the same way, so the comparison is like for like. The soak runs in a child process of its own with a GP endpoint that keeps nothing, so its memory is the gateway's plus autocannon's.",
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.label}`, '');
    if (r.skipped) {
      lines.push(`Not measured: ${r.skipped}.`, '');
      continue;
    }
    lines.push(
      markdownRow(HEADER),
      markdownRow(HEADER.map(() => '---:')),
      ...r.rows.map((row) => markdownRow(cells(row))),
      '',
    );
  }
  lines.push(
    `## Soak: ${soakReport.db === 'postgres' ? 'PostgreSQL' : 'PGlite (in memory)'}, ${soakReport.seconds} s at concurrency ${soakReport.concurrency}`,
    '',
    soakNote,
    '',
    `${soakReport.accepted} letters accepted (${(soakReport.accepted / soakReport.seconds).toFixed(0)}/s), ${soakReport.delivered} delivered, ${soakReport.non2xx} non-2xx; intake p50 ${soakReport.intakeP50.toFixed(1)} ms, p99 ${soakReport.intakeP99.toFixed(1)} ms. Memory is \`process.memoryUsage()\` of the soak process; the last row is taken after the queue drained. Delivered may end above accepted by up to the concurrency: letters in flight when the load stops are stored and delivered, but autocannon no longer counts their answers.`,
    '',
    ...soakTable(soakReport),
    '',
    '## Targets',
    '',
    ...targetLines(results.find((r) => r.label === 'PostgreSQL')),
    '',
    '## Where the time goes',
    '',
    '<!-- The bench keeps what is between the profile markers when it rewrites this file. -->',
    PROFILE_OPEN,
    keptProfileNotes(),
    PROFILE_CLOSE,
    '',
  );
  writeFileSync(reportPath, lines.join('\n'));
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const echo = await startExpressEcho();
  const results: DbResult[] = [];
  results.push(await benchDatabase('PGlite (in memory)', undefined, echo.url));
  const havePostgres = await postgresAnswers(postgresUrl);
  if (havePostgres) {
    results.push(await benchDatabase('PostgreSQL', postgresUrl, echo.url));
  } else {
    const note = `no PostgreSQL answered at ${redact(postgresUrl)} (set BENCH_POSTGRES_URL)`;
    console.log(`\nPostgreSQL skipped: ${note}`);
    results.push({ label: 'PostgreSQL', skipped: note, rows: [] });
  }
  await echo.close();

  const soakNote = havePostgres
    ? 'Against the PostgreSQL gateway.'
    : 'Against the PGlite gateway: no PostgreSQL answered.';
  console.log(`\nSoak: ${soakSeconds}s at concurrency ${soakConcurrency}, ${havePostgres ? 'PostgreSQL' : 'PGlite'}`);
  const soakReport = await soak(havePostgres ? postgresUrl : undefined);
  console.log(soakTable(soakReport).join('\n'));

  console.log(`\nTargets\n${targetLines(results.find((r) => r.label === 'PostgreSQL')).join('\n')}`);
  writeReport(results, soakReport, soakNote, startedAt);
  console.log(`\nWrote ${reportPath}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
