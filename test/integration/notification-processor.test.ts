import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createDisclosureGuard } from '../../src/consent/disclosure-guard';
import { createLogger } from '../../src/observability/logger';
import { outboundPolicy } from '../../src/outbound/address-policy';
import { createOutboundDispatcher } from '../../src/outbound/outbound-dispatcher';
import { createRedisConnection } from '../../src/queue/connection';
import type { Db } from '../../src/store/db';
import {
  createNotificationQueue,
  notificationJobOptions,
  type NotificationJobData,
} from '../../src/subscriptions/notification-queue';
import { processNotification, type NotificationDeps } from '../../src/subscriptions/notification-processor';
import { REST_HOOK_UNREACHABLE } from '../../src/subscriptions/rest-hook-sender';
import { getSubscription, saveSubscription } from '../../src/subscriptions/subscription-store';
import { TOPICS } from '../../src/subscriptions/topics';
import { createTestDb } from '../helpers/test-db';

/**
 * processNotification called directly, with a real database, a real BullMQ job in Redis and a real loopback
 * rest-hook: a handshake activates the subscription; a hook that answers 500 on the last attempt turns it
 * `error`; a hook nobody listens on gives the one unreachable text.
 */
describe('processNotification', () => {
  let db: Db;
  let redis: Redis;
  let queue: Queue<NotificationJobData>;
  let server: Server;
  let answer = 200;
  const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
  let deps: NotificationDeps;
  const prefix = `test-notify-${randomUUID().slice(0, 8)}`;
  let activated = 0;

  beforeAll(async () => {
    db = await createTestDb();
    redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'worker');
    queue = createNotificationQueue(redis, prefix);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const outbound = outboundPolicy({ allowPrivate: true, allow: [], publicBaseUrl: 'http://gateway.test', port: 1 });
    deps = {
      db,
      guard: createDisclosureGuard(),
      logger: createLogger('silent'),
      baseUrl: 'http://gateway.test/fhir',
      timeoutMs: 5000,
      allowHttp: true,
      outbound,
      dispatcher: createOutboundDispatcher(outbound),
      lock: { redis, prefix },
      onActivated: () => {
        activated += 1;
      },
    };
  });

  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.quit();
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });

  const hook = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  async function subscription(endpoint: string): Promise<string> {
    const id = randomUUID();
    const topic = TOPICS[0]?.url ?? '';
    await saveSubscription(db, {
      id,
      clientId: 'demo-gp',
      org: { system: 'urn:oid:1.2.208.176.1.1', value: '123456789012345' },
      topic,
      patientCpr: null,
      endpoint,
      headers: ['Authorization: Bearer hook-secret'],
      content: 'id-only',
      heartbeatSeconds: null,
      status: 'requested',
      resource: {
        resourceType: 'Subscription',
        id,
        status: 'requested',
        reason: 'test',
        criteria: topic,
        channel: { type: 'rest-hook', endpoint },
      },
    });
    return id;
  }

  const job = (subscriptionId: string, attempts: number) =>
    queue.add(
      'handshake',
      { subscriptionId, type: 'handshake' },
      notificationJobOptions(`handshake-${subscriptionId}`, { attempts, backoffMs: 10 }),
    );

  it('posts a handshake with the channel headers and activates the subscription', async () => {
    answer = 200;
    const id = await subscription(hook());
    await processNotification(await job(id, 3), deps);
    expect((await getSubscription(db, id))?.status).toBe('active');
    expect(activated).toBe(1);
    const last = received.at(-1);
    expect(last?.headers.authorization).toBe('Bearer hook-secret');
    expect(last?.headers['content-type']).toBe('application/fhir+json');
    expect(JSON.parse(last?.body ?? '{}')).toMatchObject({ resourceType: 'Bundle', type: 'history' });
  });

  it('turns the subscription error when the last attempt is answered 500', async () => {
    answer = 500;
    const id = await subscription(hook());
    await expect(processNotification(await job(id, 1), deps)).rejects.toBeInstanceOf(UnrecoverableError);
    const s = await getSubscription(db, id);
    expect(s?.status).toBe('error');
    expect(s?.error).toBe('rest-hook answered 500 (gave up after 1 attempts)');
  });

  it('rethrows for a retry before the last attempt, and says only "not reached" for a closed port', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const id = await subscription(`http://127.0.0.1:${port}/hook`);
    await expect(processNotification(await job(id, 3), deps)).rejects.toThrow(REST_HOOK_UNREACHABLE);
    expect((await getSubscription(db, id))?.status).toBe('requested');
  });
});
