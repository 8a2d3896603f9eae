/**
 * Scale-out bench (issue 16): discharge letters through 1 and then 2 real gateway processes (`src/server.ts`,
 * each taking intake and running the relay and delivery workers) on one PostgreSQL and one Redis, then an RSS
 * soak of the 2-process setup at a fixed rate. The load generator, the Express echo (the HTTP ceiling, measured
 * in the same run) and the loopback GP endpoint run in this process; the gateways run on the same Node as it.
 * Every step also checks that the GP got each letter exactly once.
 *
 *   npm run bench:scale
 *   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test BENCH_SCALE_SECONDS=15 BENCH_SCALE_CONCURRENCY=16 \
 *     BENCH_SOAK_SECONDS=300 BENCH_SOAK_RATE=60 npm run bench:scale
 *
 * Needs PostgreSQL (PGlite is one process's database): a private schema is created and dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { Bundle, MessageHeader } from 'fhir/r4';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { migrate } from '../src/store/migrate';
import { openPostgresDb } from '../src/store/postgres-db';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { startExpressEcho } from './express-echo';

const ROOT = join(__dirname, '..');
const PG_URL = process.env.BENCH_POSTGRES_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 16);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 30);
const SOAK_RATE = Number(process.env.BENCH_SOAK_RATE ?? 40);
const SOAK_SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 5);
const hospitalKey = DEMO_CLIENTS.find((c) => c.role === 'hospital')?.apiKey ?? '';
const adminKey = DEMO_CLIENTS.find((c) => c.role === 'admin')?.apiKey ?? '';
const letter = readFileSync(join(ROOT, 'test/fixtures/discharge-letter.native.json'), 'utf8');

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A GP endpoint that acknowledges every message with a bare 200 and counts sends and distinct MessageHeader.ids. */
async function startCountingReceiver() {
  const headers = new Set<string>();
  let sends = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bundle = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Bundle;
      const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
      sends++;
      headers.add(header?.id ?? '');
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ sends, distinct: headers.size }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

interface GatewayProcess {
  base: string;
  child: ChildProcess;
}

/** One `src/server.ts` process on this Node (tsx as a loader, so the pid is the gateway's own). */
async function startGatewayProcess(port: number, env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`gateway on ${port} exited (${child.exitCode}): ${stderr}`);
    }
    const ok = await fetch(`${base}/health/ready`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) {
      return { base, child };
    }
    if (Date.now() > deadline) {
      throw new Error(`gateway on ${port} did not become ready: ${stderr}`);
    }
    await sleep(250);
  }
}

async function stopGatewayProcess(g: GatewayProcess): Promise<void> {
  if (g.child.exitCode !== null) {
    return;
  }
  const exited = new Promise((r) => g.child.once('exit', r));
  g.child.kill('SIGTERM');
  await Promise.race([exited, sleep(35000)]);
}

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round((kb / 1024) * 10) / 10;
  } catch {
    return 0;
  }
}

function load(url: string, connections: number, seconds: number, rate?: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        connections,
        duration: seconds,
        ...(rate ? { overallRate: rate } : {}),
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
  });
}

async function main(): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = openPostgresDb(PG_URL, { max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = openPostgresDb(PG_URL, { schema, max: 2 });
  await migrate(db);
  const separator = PG_URL.includes('?') ? '&' : '?';
  const databaseUrl = `${PG_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const receiver = await startCountingReceiver();
  const echo = await startExpressEcho();
  const running: GatewayProcess[] = [];
  const env = (prefix: string) => ({
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    OUTBOUND_ALLOW_PRIVATE: 'true',
    RATE_LIMIT_REQUESTS: '100000000',
    VALIDATE_OUTPUT: 'fhir-input',
  });
  const counts = async () => {
    const rows = await db.query<{ messages: string; delivered: string; deliveries: string }>(
      "SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM deliveries WHERE status = 'delivered') AS delivered, (SELECT count(*) FROM deliveries) AS deliveries",
    );
    return {
      messages: Number(rows[0]?.messages),
      delivered: Number(rows[0]?.delivered),
      deliveries: Number(rows[0]?.deliveries),
    };
  };

  try {
    log(`echo: ${SECONDS} s at ${CONCURRENCY} connections`);
    await load(echo.url, CONCURRENCY, 2);
    const echoResult = await load(echo.url, CONCURRENCY, SECONDS);
    const echoRate = echoResult.requests.average;

    const steps: Array<Record<string, number | string>> = [];
    let port = 18480 + Math.floor(Math.random() * 500);
    for (const processes of [1, 2]) {
      const prefix = `bench-scale-${randomBytes(3).toString('hex')}`;
      const gateways: GatewayProcess[] = [];
      for (let i = 0; i < processes; i++) {
        const g = await startGatewayProcess(port++, env(prefix));
        gateways.push(g);
        running.push(g);
      }
      const first = gateways[0];
      if (!first) {
        throw new Error('no gateway');
      }
      const loaded = await fetch(`${first.base}/fhir`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(directoryBundle(receiver.url)),
      });
      if (loaded.status !== 200) {
        throw new Error(`directory load failed: ${loaded.status}`);
      }
      // Warm-up (JIT, pools, caches), not measured.
      await Promise.all(gateways.map((g) => load(`${g.base}/discharge-letters`, 4, 2)));
      await waitDrained(counts);
      const before = await counts();
      const sendsBefore = receiver.counts();
      log(`${processes} process(es): ${SECONDS} s at ${CONCURRENCY} connections in all`);
      const started = Date.now();
      const results = await Promise.all(
        gateways.map((g) => load(`${g.base}/discharge-letters`, Math.ceil(CONCURRENCY / processes), SECONDS)),
      );
      const loadSeconds = (Date.now() - started) / 1000;
      const drainedAt = await waitDrained(counts);
      const after = await counts();
      const sends = receiver.counts();
      const accepted = after.messages - before.messages;
      const delivered = after.delivered - before.delivered;
      steps.push({
        processes,
        accepted,
        acceptedPerSecond: Math.round(accepted / loadSeconds),
        deliveredPerSecond: Math.round(delivered / ((drainedAt - started) / 1000)),
        intakeP99: Math.max(...results.map((r) => r.latency.p99)),
        non2xx: results.reduce((n, r) => n + r.non2xx, 0),
        gpSends: sends.sends - sendsBefore.sends,
        gpDistinct: sends.distinct - sendsBefore.distinct,
        rssMb: gateways.map((g) => rssMb(g.child.pid)).join(' / '),
      });
      for (const g of gateways) {
        await stopGatewayProcess(g);
        running.splice(running.indexOf(g), 1);
      }
    }

    // Soak: the 2-process setup at a fixed overall rate, RSS of each gateway process sampled as it goes.
    const prefix = `bench-soak-${randomBytes(3).toString('hex')}`;
    const soakers = [await startGatewayProcess(port++, env(prefix)), await startGatewayProcess(port++, env(prefix))];
    running.push(...soakers);
    log(`soak: ${SOAK_SECONDS} s at ${SOAK_RATE} letters/s over 2 processes`);
    const samples: Array<{ elapsed: number; rss: number[] }> = [
      { elapsed: 0, rss: soakers.map((g) => rssMb(g.child.pid)) },
    ];
    const soakStart = Date.now();
    const sampler = setInterval(() => {
      samples.push({
        elapsed: Math.round((Date.now() - soakStart) / 1000),
        rss: soakers.map((g) => rssMb(g.child.pid)),
      });
    }, SOAK_SAMPLE_SECONDS * 1000);
    const soakBefore = await counts();
    const soakSends = receiver.counts();
    const soakResults = await Promise.all(
      soakers.map((g) => load(`${g.base}/discharge-letters`, 8, SOAK_SECONDS, SOAK_RATE / soakers.length)),
    );
    await waitDrained(counts);
    clearInterval(sampler);
    samples.push({ elapsed: Math.round((Date.now() - soakStart) / 1000), rss: soakers.map((g) => rssMb(g.child.pid)) });
    const soakAfter = await counts();
    const soakSent = receiver.counts();
    for (const g of soakers) {
      await stopGatewayProcess(g);
      running.splice(running.indexOf(g), 1);
    }

    const one = steps[0];
    const two = steps[1];
    const lines = [
      `Node ${process.version}; ${SECONDS} s per step at ${CONCURRENCY} connections in all; PostgreSQL ${PG_URL.replace(/\/\/[^@]*@/, '//')}`,
      `Express echo (same run, this process): ${Math.round(echoRate)} req/s`,
      '',
      '| processes | accepted/s | delivered/s | intake p99 ms | non-2xx | letters | GP sends | GP distinct | % of echo | RSS MB after |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- |',
      ...steps.map(
        (s) =>
          `| ${s.processes} | ${s.acceptedPerSecond} | ${s.deliveredPerSecond} | ${s.intakeP99} | ${s.non2xx} | ${s.accepted} | ${s.gpSends} | ${s.gpDistinct} | ${((Number(s.acceptedPerSecond) / echoRate) * 100).toFixed(1)}% | ${s.rssMb} |`,
      ),
      '',
      `2 processes / 1 process, accepted/s: ${one && two ? (Number(two.acceptedPerSecond) / Number(one.acceptedPerSecond)).toFixed(2) : '–'}`,
      '',
      `Soak: ${SOAK_SECONDS} s at ${SOAK_RATE} letters/s over 2 processes: ${soakAfter.messages - soakBefore.messages} letters, ` +
        `${soakAfter.delivered - soakBefore.delivered} delivered, GP sends ${soakSent.sends - soakSends.sends} ` +
        `(distinct ${soakSent.distinct - soakSends.distinct}), non-2xx ${soakResults.reduce((n, r) => n + r.non2xx, 0)}, ` +
        `intake p99 ${Math.max(...soakResults.map((r) => r.latency.p99))} ms`,
      '',
      '| elapsed s | RSS MB process 1 | RSS MB process 2 |',
      '| ---: | ---: | ---: |',
      ...samples.map((s) => `| ${s.elapsed} | ${s.rss[0] ?? 0} | ${s.rss[1] ?? 0} |`),
      '',
      `Largest RSS: ${Math.max(...samples.flatMap((s) => s.rss))} MB (target ≤ 300 MB per process)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const exactlyOnce = steps.every((s) => s.gpSends === s.gpDistinct && s.gpDistinct === s.accepted);
    if (!exactlyOnce) {
      process.stdout.write('NOT exactly once: see GP sends / distinct / letters above\n');
      process.exitCode = 1;
    }
  } finally {
    for (const g of running) {
      await stopGatewayProcess(g);
    }
    await receiver.close();
    await echo.close();
    await db.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await admin.close();
  }
}

/** Waits until every delivery is delivered (or 180 s); returns when it saw that. */
async function waitDrained(counts: () => Promise<{ delivered: number; deliveries: number }>): Promise<number> {
  const deadline = Date.now() + 180000;
  for (;;) {
    const c = await counts();
    if (c.delivered >= c.deliveries || Date.now() > deadline) {
      return Date.now();
    }
    await sleep(100);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
