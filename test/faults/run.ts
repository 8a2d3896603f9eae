/**
 * Fault injection: proof that a 202 means "it will arrive, or someone will know why not". Each scenario runs
 * against real Redis, a real database and a real loopback receiver that de-duplicates on MessageHeader.id,
 * injects one fault, and prints per scenario how many messages were accepted, delivered once, delivered more
 * than once with the same MessageHeader.id, dead-lettered (with the reason) and lost. It exits 1 when anything
 * was lost or arrived twice under different MessageHeader.ids.
 *
 *   npm run faults                       # every scenario
 *   FAULTS=sigkill,redis-flush npm run faults
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import {
  startMessageReceiver,
  type MessageReceiver,
  type ReceiverBehaviour,
} from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { openPgliteDb } from '../../src/store/pglite-db';
import { directoryBundle } from '../helpers/directory-fixture';
import { createTestDb } from '../helpers/test-db';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';
import { faultyDb } from './faulty-db';
import { failed, tally, type Tally } from './tally';

const ROOT = join(__dirname, '..', '..');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOSPITAL = DEMO_CLIENTS.find((c) => c.role === 'hospital')!.apiKey;
const ADMIN = DEMO_CLIENTS.find((c) => c.role === 'admin')!.apiKey;
const TEMPLATE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/discharge-letter.native.json'), 'utf8')) as Record<
  string,
  unknown
>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A letter with its own documentId, so a copy under another MessageHeader.id would be recognised. */
const letter = (tag: string, i: number) => JSON.stringify({ ...TEMPLATE, documentId: `${tag}-${i}` });

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) {
      return true;
    }
    await sleep(50);
  }
  return false;
}

/** Posts letters from `count` at `concurrency` to `post`; returns the accepted message ids and the other answers. */
async function load(
  count: number,
  concurrency: number,
  post: (i: number) => Promise<{ status: number; body: unknown }>,
): Promise<{ accepted: string[]; statuses: Map<number, number> }> {
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const answer = await post(i).catch(() => ({ status: 0, body: undefined }));
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status === 202) {
          accepted.push((answer.body as { id: string }).id);
        }
      }
    }),
  );
  return { accepted: [...new Set(accepted)], statuses };
}

const statusText = (m: Map<number, number>) =>
  [...m.entries()]
    .sort()
    .map(([s, n]) => `${s === 0 ? 'no answer' : s}×${n}`)
    .join(', ');

// ---- in-process scenarios -------------------------------------------------------------------------------------

async function inProcess(
  scenario: string,
  env: Record<string, string>,
  behaviour: ReceiverBehaviour | ((m: { messageHeaderId: string }, attempt: number) => ReceiverBehaviour),
  run: (t: TestGateway, gp: MessageReceiver) => Promise<{ accepted: string[]; notes: string[] }>,
  dbWrap?: (db: Awaited<ReturnType<typeof createTestDb>>) => Awaited<ReturnType<typeof createTestDb>>,
): Promise<Tally> {
  const gp = await startMessageReceiver();
  gp.behaviour = behaviour;
  const realDb = await createTestDb();
  const db = dbWrap ? dbWrap(realDb) : realDb;
  const t = await startTestGateway({ db, env: { VALIDATE_OUTPUT: 'never', WORKER_CONCURRENCY: '16', ...env } });
  try {
    await t.http.post('/fhir').set('Authorization', `Bearer ${ADMIN}`).send(directoryBundle(gp.url)).expect(200);
    const { accepted, notes } = await run(t, gp);
    // Every delivery final (delivered, or a dead letter) before counting; a minute is the limit.
    await until(
      async () =>
        Number(
          (
            await realDb.query<{ n: string | number }>(
              "SELECT count(*) AS n FROM deliveries WHERE status IN ('pending', 'queued')",
            )
          )[0]?.n,
        ) === 0,
      60000,
    );
    return await tally(scenario, realDb, accepted, gp.received, notes);
  } finally {
    await t.close();
    await realDb.close();
    await gp.close();
  }
}

const post =
  (t: TestGateway, body: string, headers: Record<string, string> = {}) =>
  async () => {
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${HOSPITAL}`)
      .set('Content-Type', 'application/json')
      .set(headers)
      .send(body);
    return { status: res.status, body: res.body as unknown };
  };

const scenarios: Record<string, () => Promise<Tally>> = {
  'redis-flush': () =>
    inProcess(
      'Redis restarted empty mid-run (every queue key deleted)',
      { WORKER_CONCURRENCY: '4' },
      { kind: 'slow', delayMs: 100 },
      async (t, gp) => {
        const tag = randomUUID();
        const loading = load(300, 8, (i) => post(t, letter(tag, i))());
        await until(() => gp.unique.size >= 60, 30000);
        const redis = new IORedis(REDIS_URL);
        const keys = await redis.keys(`${t.config.queuePrefix}:*`);
        if (keys.length) {
          await redis.del(...keys);
        }
        await redis.quit();
        const { accepted, statuses } = await loading;
        return {
          accepted,
          notes: [
            `deleted ${keys.length} Redis keys after ${gp.unique.size} deliveries`,
            `answers: ${statusText(statuses)}`,
          ],
        };
      },
    ),

  'receiver-down': () => {
    let downUntil = 0;
    return inProcess(
      'receiver down for 3 s, then back',
      { DELIVERY_ATTEMPTS: '12', DELIVERY_BACKOFF_MS: '100' },
      () => (Date.now() < downUntil ? { kind: 'status', status: 503 } : { kind: 'ack', code: 'ok' }),
      async (t) => {
        downUntil = Date.now() + 3000;
        const tag = randomUUID();
        const { accepted, statuses } = await load(200, 8, (i) => post(t, letter(tag, i))());
        return { accepted, notes: [`answers: ${statusText(statuses)}`] };
      },
    );
  },

  'slow-receiver': () =>
    inProcess(
      'slow receiver: the first answer comes after the 500 ms timeout',
      { DELIVERY_TIMEOUT_MS: '500', DELIVERY_ATTEMPTS: '6', DELIVERY_BACKOFF_MS: '50' },
      (_m, attempt) => (attempt === 1 ? { kind: 'slow', delayMs: 1500 } : { kind: 'ack', code: 'ok' }),
      async (t) => {
        const tag = randomUUID();
        const { accepted, statuses } = await load(100, 8, (i) => post(t, letter(tag, i))());
        return {
          accepted,
          notes: [`answers: ${statusText(statuses)}`, 'a resend after a timeout carries the same MessageHeader.id'],
        };
      },
    ),

  'receiver-refuses': () =>
    inProcess(
      'receiver refuses some messages for good (fatal-error acknowledgement)',
      { DELIVERY_ATTEMPTS: '3', DELIVERY_BACKOFF_MS: '20' },
      (m) =>
        parseInt(m.messageHeaderId.slice(0, 2), 16) % 10 === 0
          ? { kind: 'ack', code: 'fatal-error' }
          : { kind: 'ack', code: 'ok' },
      async (t) => {
        const tag = randomUUID();
        const { accepted, statuses } = await load(100, 8, (i) => post(t, letter(tag, i))());
        return {
          accepted,
          notes: [`answers: ${statusText(statuses)}`, 'refused messages must be dead letters with a reason, not lost'],
        };
      },
    ),

  'database-down': () => {
    let db: ReturnType<typeof faultyDb> | undefined;
    return inProcess(
      'database unavailable at intake for a while',
      {},
      { kind: 'ack', code: 'ok' },
      async (t) => {
        const tag = randomUUID();
        const before = await load(40, 4, (i) => post(t, letter(tag, i))());
        if (db) {
          db.down = true;
        }
        const during = await load(40, 4, (i) => post(t, letter(tag, 100 + i))());
        const outcome = await t.http
          .post('/discharge-letters')
          .set('Authorization', `Bearer ${HOSPITAL}`)
          .set('Content-Type', 'application/json')
          .send(letter(tag, 999));
        if (db) {
          db.down = false;
        }
        const after = await load(40, 4, (i) => post(t, letter(tag, 200 + i))());
        const stored = await t.db.query<{ n: string }>(
          'SELECT count(*) AS n FROM messages m WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id)',
        );
        return {
          accepted: [...before.accepted, ...during.accepted, ...after.accepted],
          notes: [
            `while down: ${statusText(during.statuses)}; body ${outcome.body?.resourceType as string} "${(outcome.body?.issue?.[0]?.diagnostics as string | undefined) ?? ''}"`,
            `messages without a delivery (half-written): ${stored[0]?.n ?? '?'}`,
          ],
        };
      },
      (real) => {
        db = faultyDb(real);
        return db;
      },
    );
  },

  duplicates: () =>
    inProcess(
      'the same letter submitted 4 times at once with one Idempotency-Key',
      {},
      { kind: 'ack', code: 'ok' },
      async (t) => {
        const tag = randomUUID();
        const { accepted, statuses } = await load(200, 16, (i) =>
          post(t, letter(tag, Math.floor(i / 4)), { 'Idempotency-Key': `${tag}-${Math.floor(i / 4)}` })(),
        );
        return {
          accepted,
          notes: [
            `200 submissions of 50 letters → ${accepted.length} distinct messages; answers: ${statusText(statuses)}`,
          ],
        };
      },
    ),

  burst: () =>
    inProcess(
      'a burst far above the sustained rate (1000 letters at concurrency 100)',
      {},
      { kind: 'ack', code: 'ok' },
      async (t) => {
        const tag = randomUUID();
        const started = Date.now();
        const { accepted, statuses } = await load(1000, 100, (i) => post(t, letter(tag, i))());
        return {
          accepted,
          notes: [`intake took ${((Date.now() - started) / 1000).toFixed(1)} s; answers: ${statusText(statuses)}`],
        };
      },
    ),

  sigkill: () =>
    processScenario('kill', 'worker process killed with SIGKILL mid-delivery, restarted on the same database'),
  sigterm: () =>
    processScenario(
      'term',
      'SIGTERM under load: intake answers 503, in-flight work finishes, a restart delivers the rest',
    ),
};

// ---- scenarios with the gateway in its own process ------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

async function startChild(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; base: string; exited: Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  const up = await until(
    async () =>
      await fetch(`${base}/health/ready`)
        .then((r) => r.ok)
        .catch(() => false),
    30000,
  );
  if (!up) {
    child.kill('SIGKILL');
    throw new Error('the gateway process did not become ready');
  }
  return { child, base, exited };
}

async function processScenario(kind: 'kill' | 'term', title: string): Promise<Tally> {
  const gp = await startMessageReceiver({ behaviour: { kind: 'slow', delayMs: 40 } });
  const dir = mkdtempSync(join(tmpdir(), 'sektorbro-faults-'));
  const directoryFile = join(dir, 'directory.json');
  writeFileSync(directoryFile, JSON.stringify(directoryBundle(gp.url)));
  const env = {
    DATA_DIR: join(dir, 'db'),
    DIRECTORY_FILE: directoryFile,
    QUEUE_PREFIX: `faults-${randomBytes(4).toString('hex')}`,
    REDIS_URL,
    LOG_LEVEL: 'error',
    WORKER_CONCURRENCY: '8',
    DELIVERY_BACKOFF_MS: '100',
    VALIDATE_OUTPUT: 'never',
    // Fault injection measures loss, not the per-client rate limit.
    RATE_LIMIT_REQUESTS: '100000000',
  };
  const tag = randomUUID();
  const notes: string[] = [];
  let accepted: string[] = [];
  try {
    const a = await startChild(env);
    const postTo = (base: string) => (i: number) =>
      fetch(`${base}/discharge-letters`, {
        method: 'POST',
        headers: { authorization: `Bearer ${HOSPITAL}`, 'content-type': 'application/json' },
        body: letter(tag, i),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const loading = load(400, 8, postTo(a.base));
    await until(() => gp.unique.size >= 80, 60000);
    const at = gp.unique.size;
    a.child.kill(kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
    const first = await loading;
    const code = await a.exited;
    notes.push(
      `${kind === 'kill' ? 'SIGKILL' : 'SIGTERM'} after ${at} deliveries; first process exited with ${code === null ? 'a signal' : `code ${code}`}; answers: ${statusText(first.statuses)}`,
    );
    accepted = first.accepted;
    const b = await startChild(env);
    const restarted = Date.now();
    // Jobs the killed process held come back only when their 30 s lock has expired and a stalled check has
    // seen them (every 10 s): allow twice that.
    await until(() => gp.unique.size >= accepted.length, 120000);
    const tookSeconds = ((Date.now() - restarted) / 1000).toFixed(1);
    b.child.kill('SIGTERM');
    notes.push(
      `restart delivered the rest in ${tookSeconds} s; second process stopped on SIGTERM with code ${String(await b.exited)}`,
    );
    const db = await openPgliteDb(join(dir, 'db'));
    try {
      return await tally(title, db, accepted, gp.received, notes);
    } finally {
      await db.close();
    }
  } finally {
    await gp.close();
    const redis = new IORedis(REDIS_URL);
    const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
    if (keys.length) {
      await redis.del(...keys);
    }
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- report ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const chosen = (process.env.FAULTS ?? Object.keys(scenarios).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const results: Tally[] = [];
  for (const name of chosen) {
    const scenario = scenarios[name];
    if (!scenario) {
      throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
    }
    const started = Date.now();
    const result = await scenario();
    results.push(result);
    const verdict = failed(result) ? 'FAIL' : 'ok';
    console.log(`\n[${verdict}] ${name}: ${result.scenario} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(
      `  accepted ${result.accepted} | delivered once ${result.deliveredOnce} | delivered again, same MessageHeader.id ${result.deliveredTwiceSameId} | duplicates under another id ${result.duplicatesWithOtherId} | dead-lettered ${result.deadLettered} | lost ${result.lost}`,
    );
    for (const reason of result.deadReasons) {
      console.log(`  dead letter: ${reason}`);
    }
    for (const note of result.notes) {
      console.log(`  ${note}`);
    }
  }
  const bad = results.filter(failed);
  console.log(
    `\n${results.length - bad.length} of ${results.length} scenarios kept every accepted message (nothing lost, no unrecognisable duplicates).`,
  );
  process.exit(bad.length ? 1 : 0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
