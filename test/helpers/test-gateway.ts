import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { loadConfig, type Config } from '../../src/config';
import { startGateway, type Gateway, type GatewayOverrides } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { Db } from '../../src/store/db';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { directoryBundle } from './directory-fixture';
import { createTestDb } from './test-db';

export const KEY = Object.fromEntries(DEMO_CLIENTS.map((c) => [c.role, c.apiKey])) as Record<
  'hospital' | 'gp' | 'jobcentre' | 'employer' | 'admin',
  string
>;

/** The METRICS_TOKEN of test gateways. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0001';

export interface TestGateway {
  gateway: Gateway;
  db: Db;
  config: Config;
  http: TestAgent;
  close(): Promise<void>;
}

/**
 * A whole gateway against real Redis (a private queue prefix per gateway, so test files never see each
 * other's jobs) and a real database, with fast retries. Reuse `db` to simulate a restart.
 */
export async function startTestGateway(
  options: { env?: Record<string, string>; db?: Db; overrides?: GatewayOverrides } = {},
): Promise<TestGateway> {
  const config = loadConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    QUEUE_PREFIX: `test-${randomBytes(5).toString('hex')}`,
    DELIVERY_ATTEMPTS: '3',
    DELIVERY_BACKOFF_MS: '20',
    DELIVERY_TIMEOUT_MS: '2000',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PUBLIC_BASE_URL: 'http://gateway.test',
    VALIDATE_OUTPUT: 'always',
    // Test receivers listen on loopback: the tests opt in to what production refuses (test/security checks both).
    OUTBOUND_ALLOW_PRIVATE: 'true',
    // Tests are not throttled (test/security proves the limits with their own settings).
    RATE_LIMIT_REQUESTS: '10000000',
    AUTH_FAILURES_FREE: '100000',
    AUTH_FAILURES_BLOCK: '100001',
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    ...options.env,
  });
  const db = options.db ?? (await createTestDb());
  const gateway = await startGateway(config, {
    db,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
    relay: { pollMs: 100, reconcileMs: 200, reconcileAfterMs: 300 },
    ...options.overrides,
  });
  return {
    gateway,
    db,
    config,
    http: request(gateway.app),
    async close() {
      await gateway.queue.obliterate({ force: true }).catch(() => undefined);
      await gateway.close();
      if (!options.db) {
        await db.close();
      }
    },
  };
}

/** Waiting is only a guard against a hang: no test asserts on time, and on a shared 2-core CI machine under load a
 * delivery has taken tens of seconds. Every wait lasts at least this long. */
const HANG_GUARD_MS = 60000;

/** Polls until check() returns a value (not undefined), or fails after timeoutMs (at least HANG_GUARD_MS). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = HANG_GUARD_MS,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + Math.max(timeoutMs, HANG_GUARD_MS);
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A gateway plus a real loopback GP endpoint, with the test directory loaded: the common integration setup. */
export async function startGatewayWithGp(
  options: Parameters<typeof startTestGateway>[0] = {},
): Promise<{ gp: MessageReceiver; t: TestGateway; close: () => Promise<void> }> {
  const gp = await startMessageReceiver();
  const t = await startTestGateway(options);
  const loaded = await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(gp.url));
  if (loaded.status !== 200) {
    throw new Error(`directory load failed: ${loaded.status}`);
  }
  return {
    gp,
    t,
    close: async () => {
      await t.close();
      await gp.close();
    },
  };
}

/**
 * Sends the same request n times at once over a listening loopback server (supertest starts them one after
 * another), so they really race: how PostgreSQL sees concurrent clients.
 */
export async function postAtOnce(
  gateway: Gateway,
  n: number,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<Array<{ status: number; body: { id: string } }>> {
  const server = gateway.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  try {
    return await Promise.all(
      Array.from({ length: n }, async () => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body });
        return { status: res.status, body: (await res.json()) as { id: string } };
      }),
    );
  } finally {
    server.close();
  }
}
