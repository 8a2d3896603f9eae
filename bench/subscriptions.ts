/**
 * Subscription notification throughput: S subscriptions of one practice (each "all listed patients", id-only)
 * on a real loopback rest-hook, then a burst of E discharge letters about a listed patient. Every letter is one
 * event per subscription, so S×E notifications; prints notifications/s from the first letter to the last
 * notification, and checks each subscription got its events in order.
 *
 *   npm run bench:subscriptions                     # PGlite in memory
 *   DATABASE_URL=postgres://... BENCH_SUBSCRIPTIONS=200 BENCH_EVENTS=20 npm run bench:subscriptions
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startMessageReceiver } from '../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { BACKPORT } from '../src/mappers/subscription/backport';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { TOPICS } from '../src/subscriptions/topics';
import { GP_SOR } from '../test/helpers/directory-fixture';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { openBenchDb } from './bench-db';

const subscriptions = Number(process.env.BENCH_SUBSCRIPTIONS ?? 100);
const events = Number(process.env.BENCH_EVENTS ?? 20);
const key = (role: string) => DEMO_CLIENTS.find((c) => c.role === role)!.apiKey;
const letter = readFileSync(join(__dirname, '../test/fixtures/discharge-letter.native.json'), 'utf8');

async function main(): Promise<void> {
  const { db, drop } = await openBenchDb();
  const gp = await startMessageReceiver();
  const hook = await startMessageReceiver({ behaviour: { kind: 'status', status: 200 } });
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    // The benchmark measures throughput, not the per-client rate limit.
    RATE_LIMIT_REQUESTS: '100000000',
    QUEUE_PREFIX: `bench-sub-${randomBytes(4).toString('hex')}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PUBLIC_BASE_URL: 'http://gateway.bench',
    SUBSCRIPTION_POLL_MS: '50',
  });
  const gateway = await startGateway(config, {
    db,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
    relay: { pollMs: 50 },
  });
  const http = request(gateway.app);
  await http
    .post('/fhir')
    .set('Authorization', `Bearer ${key('admin')}`)
    .send(directoryBundle(gp.url))
    .expect(200);
  for (let i = 0; i < subscriptions; i += 1) {
    await http
      .post('/fhir/Subscription')
      .set('Authorization', `Bearer ${key('gp')}`)
      .set('Content-Type', 'application/fhir+json')
      .send(
        JSON.stringify({
          resourceType: 'Subscription',
          status: 'requested',
          reason: 'bench',
          criteria: TOPICS[0]?.url,
          _criteria: {
            extension: [
              {
                url: BACKPORT.filterCriteria,
                valueString: `Patient?general-practitioner=urn:oid:1.2.208.176.1.1|${GP_SOR}`,
              },
            ],
          },
          channel: { type: 'rest-hook', endpoint: `${hook.url}/s${i}`, payload: 'application/fhir+json' },
        }),
      )
      .expect(201);
  }
  const active = async () =>
    Number(
      (await db.query<{ n: string }>("SELECT count(*) AS n FROM subscriptions WHERE status = 'active'"))[0]?.n ?? 0,
    );
  while ((await active()) < subscriptions) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const expected = subscriptions * events;
  const isEvent = (m: { bundle: { entry?: Array<{ resource?: unknown }> } }) =>
    JSON.stringify(m.bundle.entry?.[0]?.resource).includes('event-notification');
  const baseline = hook.received.length;
  const started = performance.now();
  for (let i = 0; i < events; i += 1) {
    await http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${key('hospital')}`)
      .set('Content-Type', 'application/json')
      .send(letter)
      .expect(202);
  }
  const intakeDone = performance.now();
  while (hook.received.slice(baseline).filter(isEvent).length < expected) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (performance.now() - started) / 1000;
  // Per subscription, event numbers must arrive in order.
  const bySubscription = new Map<string, number[]>();
  for (const m of hook.received.slice(baseline).filter(isEvent)) {
    const list = bySubscription.get(m.path) ?? [];
    const status = JSON.stringify(m.bundle.entry?.[0]?.resource);
    list.push(Number(/"event-number","valueString":"(\d+)"/.exec(status)?.[1]));
    bySubscription.set(m.path, list);
  }
  const inOrder = [...bySubscription.values()].every((l) => l.every((n, i) => i === 0 || n > (l[i - 1] ?? 0)));
  console.log(`database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (in memory)'}`);
  console.log(`subscriptions: ${subscriptions}, letters: ${events}, notifications: ${expected}`);
  console.log(`intake of the burst: ${((intakeDone - started) / 1000).toFixed(2)} s`);
  console.log(
    `all notifications delivered after: ${elapsed.toFixed(2)} s → ${(expected / elapsed).toFixed(0)} notifications/s`,
  );
  console.log(`per-subscription order kept: ${inOrder ? 'yes' : 'NO'}`);
  await gateway.queue.obliterate({ force: true }).catch(() => undefined);
  await gateway.notifier.queue.obliterate({ force: true }).catch(() => undefined);
  await gateway.close();
  await drop();
  await db.close();
  await gp.close();
  await hook.close();
}

void main();
