import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { PATIENT_CPR, directoryBundle } from '../helpers/directory-fixture';
import { createTestDb } from '../helpers/test-db';
import { KEY, eventually, startTestGateway } from '../helpers/test-gateway';

const nativeLetter = () =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/discharge-letter.native.json'), 'utf8')) as {
    course: string;
    patient: { cpr: string };
  };

describe('privacy of the logs, and a lost database', () => {
  let gp: MessageReceiver;
  beforeAll(async () => {
    gp = await startMessageReceiver();
  });
  afterAll(async () => {
    await gp.close();
  });

  it('logs the whole journey of a letter without a CPR number or clinical text', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const t = await startTestGateway({ overrides: { logger: pino({ level: 'debug' }, sink) } });
    try {
      await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(gp.url)).expect(200);
      const letter = nativeLetter();
      const ok = await t.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`).send(letter);
      expect(ok.status).toBe(202);
      await eventually(async () => {
        const r = await t.http.get(`/messages/${ok.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
        return r.body.status === 'delivered' ? true : undefined;
      });
      await t.http
        .post('/discharge-letters')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send({ ...letter, patient: { cpr: '3112999999' } })
        .expect(422);
      await t.http.get(`/patients/${PATIENT_CPR}/disclosures`).set('Authorization', `Bearer ${KEY.admin}`).expect(200);
    } finally {
      await t.close();
    }
    const log = lines.join('');
    expect(log).toContain('message accepted');
    expect(log).toContain('delivered');
    expect(log).not.toContain(PATIENT_CPR);
    expect(log).not.toContain('3112999999');
    expect(log).not.toContain(nativeLetter().course.slice(0, 30));
    expect(log).not.toContain('Escitalopram');
  });

  it('answers 503 with an OperationOutcome when the database is gone, and keeps running', async () => {
    const db = await createTestDb();
    const t = await startTestGateway({ db });
    try {
      await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(gp.url)).expect(200);
      await db.close();
      const res = await t.http
        .post('/discharge-letters')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(nativeLetter());
      expect(res.status).toBe(503);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].diagnostics).toMatch(/database is unavailable; nothing was stored/);
      const ready = await t.http.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database).toBe('error');
    } finally {
      await t.close();
    }
  });
});
