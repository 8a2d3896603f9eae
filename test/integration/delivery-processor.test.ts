import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { UnrecoverableError, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { outboundPolicy } from '../../src/outbound/address-policy';
import { createOutboundDispatcher } from '../../src/outbound/outbound-dispatcher';
import { createRedisConnection } from '../../src/queue/connection';
import { createDeliveryQueue, deliveryJobOptions, type DeliveryJobData } from '../../src/queue/delivery-queue';
import { processDelivery, type DeliveryDeps } from '../../src/queue/delivery-worker';
import type { Db } from '../../src/store/db';
import { insertMessage } from '../../src/store/messages';
import { createTestDb } from '../helpers/test-db';

/**
 * processDelivery called directly, with a real database, a real BullMQ job in Redis and a loopback FHIR
 * server: a 2xx delivers (and a second run of the same job is moot); a 400 fails the delivery for good.
 */
describe('processDelivery', () => {
  let db: Db;
  let redis: Redis;
  let queue: Queue<DeliveryJobData>;
  let server: Server;
  let answer = 200;
  let deps: DeliveryDeps;

  beforeAll(async () => {
    db = await createTestDb();
    redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'worker');
    queue = createDeliveryQueue(redis, `test-deliver-${randomUUID().slice(0, 8)}`);
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res
          .writeHead(answer, { 'Content-Type': 'application/fhir+json' })
          .end('{"resourceType":"Bundle","type":"message"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const outbound = outboundPolicy({ allowPrivate: true, allow: [], publicBaseUrl: 'http://gateway.test', port: 1 });
    deps = {
      db,
      logger: createLogger('silent'),
      metrics: createMetrics(),
      timeoutMs: 5000,
      outbound,
      dispatcher: createOutboundDispatcher(outbound),
    };
  });

  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.quit();
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });

  async function delivery(): Promise<{ messageId: string; deliveryId: string }> {
    const messageId = randomUUID();
    const deliveryId = randomUUID();
    await db.transaction((tx) =>
      insertMessage(tx, {
        id: messageId,
        kind: 'discharge-letter',
        senderClientId: 'test',
        senderRole: 'hospital',
        senderSector: 'health',
        senderOrg: { system: 'urn:oid:1.2.208.176.1.1', value: '1' },
        patientCpr: undefined,
        messageHeaderId: randomUUID(),
        idempotencyKey: undefined,
        requestHash: 'h',
        response: { id: messageId, status: 'accepted', outcome: { resourceType: 'OperationOutcome', issue: [] } },
        deliveries: [
          {
            id: deliveryId,
            recipientSor: '2',
            recipientName: 'GP',
            endpointAddress: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`,
            connectionType: 'hl7-fhir-rest',
            bundle: { resourceType: 'Bundle', id: randomUUID(), type: 'message' },
          },
        ],
      }),
    );
    return { messageId, deliveryId };
  }

  const job = (deliveryId: string) =>
    queue.add('deliver', { deliveryId }, deliveryJobOptions(`delivery-${deliveryId}`, { attempts: 3, backoffMs: 10 }));
  const status = async (id: string) =>
    (await db.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [id]))[0]?.status;

  it('delivers on a 2xx, audits it, and does nothing when the same job runs again', async () => {
    answer = 200;
    const d = await delivery();
    const j = await job(d.deliveryId);
    expect(await processDelivery(j, deps)).toBe('delivered');
    expect(await status(d.deliveryId)).toBe('delivered');
    const audits = await db.query<{ action: string }>('SELECT action FROM audit_events WHERE message_id = $1', [
      d.messageId,
    ]);
    expect(audits.map((a) => a.action)).toEqual(['delivered']);
    expect(await processDelivery(j, deps)).toBe('moot');
  });

  it('fails the delivery for good on a 400', async () => {
    answer = 400;
    const d = await delivery();
    await expect(processDelivery(await job(d.deliveryId), deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await status(d.deliveryId)).toBe('failed');
  });
});
