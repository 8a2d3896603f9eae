import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger } from '../../src/observability/logger';
import { createDeliveryQueue } from '../../src/queue/delivery-queue';
import { OutboxRelay } from '../../src/queue/outbox-relay';
import type { Db } from '../../src/store/db';
import { insertMessage, recordDeliveryAttempt } from '../../src/store/messages';
import { createTestDb } from '../helpers/test-db';

/**
 * The relay and the delivery bookkeeping against a real database and real Redis: a message is `queued` only
 * once none of its deliveries is still pending, and `delivered` only once all of them are.
 */
describe('outbox relay and message status', () => {
  let db: Db;
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const queue = createDeliveryQueue(
    { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) },
    `test-${randomBytes(5).toString('hex')}`,
  );
  const relay = () => new OutboxRelay(db, queue, createLogger('silent'), { retry: { attempts: 3, backoffMs: 20 } });

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await db.close();
  });

  const messageWithTwoDeliveries = async () => {
    const id = randomUUID();
    const deliveries = [randomUUID(), randomUUID()];
    await db.transaction((tx) =>
      insertMessage(tx, {
        id,
        kind: 'sick-leave-certificate',
        senderClientId: 'test',
        senderRole: 'gp',
        senderSector: 'health',
        senderOrg: { system: 'urn:oid:1.2.208.176.1.1', value: '1' },
        patientCpr: undefined,
        messageHeaderId: randomUUID(),
        idempotencyKey: undefined,
        requestHash: 'h',
        response: { id, status: 'accepted', outcome: { resourceType: 'OperationOutcome', issue: [] } },
        deliveries: deliveries.map((d) => ({
          id: d,
          recipientSor: '1',
          recipientName: 'r',
          endpointAddress: 'http://127.0.0.1:1',
          connectionType: 'hl7-fhir-msg',
          bundle: { resourceType: 'Bundle', type: 'message' },
        })),
      }),
    );
    return { id, deliveries };
  };
  const statusOf = async (messageId: string) =>
    (await db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [messageId]))[0]?.status;

  it('keeps a message accepted while one of its deliveries is still pending, and queues it with the last', async () => {
    const m = await messageWithTwoDeliveries();
    // Hold the second delivery back, as if its outbox entry were written later.
    await db.query('DELETE FROM outbox WHERE delivery_id = $1', [m.deliveries[1]]);
    expect(await relay().relayOnce()).toBeGreaterThanOrEqual(1);
    expect(await statusOf(m.id)).toBe('accepted');
    await db.query('INSERT INTO outbox (delivery_id) VALUES ($1)', [m.deliveries[1]]);
    expect(await relay().relayOnce()).toBe(1);
    expect(await statusOf(m.id)).toBe('queued');
  });

  it('marks a message delivered only when every delivery is, and closes each outbox entry', async () => {
    const m = await messageWithTwoDeliveries();
    await relay().relayOnce();
    await db.transaction((tx) =>
      recordDeliveryAttempt(tx, m.deliveries[0]!, { status: 'delivered', error: null, countsAsAttempt: true }),
    );
    expect(await statusOf(m.id)).toBe('queued');
    await db.transaction((tx) =>
      recordDeliveryAttempt(tx, m.deliveries[1]!, { status: 'delivered', error: null, countsAsAttempt: true }),
    );
    expect(await statusOf(m.id)).toBe('delivered');
    const left = await db.query('SELECT 1 FROM outbox WHERE delivery_id = ANY($1::uuid[])', [m.deliveries]);
    expect(left).toHaveLength(0);
  });

  it('shows a failed delivery on the message even when the other was delivered', async () => {
    const m = await messageWithTwoDeliveries();
    await relay().relayOnce();
    await db.transaction((tx) =>
      recordDeliveryAttempt(tx, m.deliveries[0]!, { status: 'failed', error: 'refused', countsAsAttempt: true }),
    );
    await db.transaction((tx) =>
      recordDeliveryAttempt(tx, m.deliveries[1]!, { status: 'delivered', error: null, countsAsAttempt: true }),
    );
    expect(await statusOf(m.id)).toBe('failed');
  });
});
