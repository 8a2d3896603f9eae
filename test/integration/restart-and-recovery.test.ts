import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import type { Db } from '../../src/store/db';
import { directoryBundle } from '../helpers/directory-fixture';
import { createTestDb } from '../helpers/test-db';
import { KEY, eventually, startTestGateway } from '../helpers/test-gateway';

/** The database, not Redis, is the source of truth: work survives a stopped worker and an emptied Redis. */
const nativeLetter = () =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/discharge-letter.native.json'), 'utf8')) as Record<
    string,
    unknown
  >;

describe('restart and recovery', () => {
  let gp: MessageReceiver;
  let db: Db;

  beforeAll(async () => {
    gp = await startMessageReceiver();
  });
  afterAll(async () => {
    await gp.close();
  });
  beforeEach(async () => {
    db = await createTestDb();
  });
  afterEach(async () => {
    await db.close();
  });

  it('delivers a message accepted while no worker ran once a gateway with workers starts', async () => {
    const intakeOnly = await startTestGateway({ db, env: { RUN_WORKERS: 'false' } });
    await intakeOnly.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle(gp.url))
      .expect(200);
    const before = gp.unique.size;
    const res = await intakeOnly.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(202);
    const waiting = await intakeOnly.http
      .get(`/messages/${res.body.id as string}`)
      .set('Authorization', `Bearer ${KEY.hospital}`);
    expect(waiting.body.status).toBe('accepted');
    await intakeOnly.close();
    expect(gp.unique.size).toBe(before);

    const restarted = await startTestGateway({ db });
    try {
      const tracking = await eventually(async () => {
        const r = await restarted.http
          .get(`/messages/${res.body.id as string}`)
          .set('Authorization', `Bearer ${KEY.hospital}`);
        return r.body.status === 'delivered' ? r.body : undefined;
      });
      expect(gp.unique.has(tracking.messageHeaderId as string)).toBe(true);
    } finally {
      await restarted.close();
    }
  });

  it('brings back a relayed job that Redis lost', async () => {
    const first = await startTestGateway({ db, env: { RUN_WORKERS: 'false' } });
    await first.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle(gp.url))
      .expect(200);
    const res = await first.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(await first.gateway.relay.relayOnce()).toBe(1);
    expect(await first.gateway.queue.count()).toBe(1);
    // Redis restarted empty: the job is gone, the outbox entry is not.
    await first.gateway.queue.obliterate({ force: true });
    expect(await first.gateway.queue.count()).toBe(0);
    const prefix = first.config.queuePrefix;
    await first.close();

    const second = await startTestGateway({ db, env: { QUEUE_PREFIX: prefix } });
    try {
      const tracking = await eventually(async () => {
        const r = await second.http
          .get(`/messages/${res.body.id as string}`)
          .set('Authorization', `Bearer ${KEY.hospital}`);
        return r.body.status === 'delivered' ? r.body : undefined;
      });
      expect(tracking.deliveries[0].attempts).toBe(1);
      const outbox = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
      expect(outbox[0]?.n).toBe(0);
    } finally {
      await second.close();
    }
  });
});
