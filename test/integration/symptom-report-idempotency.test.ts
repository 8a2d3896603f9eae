import { DEMO_CLIENTS } from '../../src/auth/clients';
import { directoryBundle } from '../helpers/directory-fixture';
import { phq9Response } from '../helpers/symptom-reports';
import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * POST /symptom-reports honours Idempotency-Key like the other intake routes: the app resending after a lost
 * answer gets the first answer again (no second report, no second alert), another body under the same key is a
 * 409, and keys are per API client.
 */
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;

describe('symptom reports with an Idempotency-Key', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ env: { RUN_WORKERS: 'false' } });
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle('http://127.0.0.1:9/fhir'))
      .expect(200);
  });
  afterAll(async () => {
    await t.close();
  });
  const post = (body: unknown, key?: string) => {
    const req = t.http.post('/symptom-reports').set('Authorization', `Bearer ${PATIENT_KEY}`);
    return (key ? req.set('Idempotency-Key', key) : req).send(body as object);
  };
  const reports = async () => (await t.db.query('SELECT id FROM symptom_reports')).length;
  const alerts = async () => (await t.db.query('SELECT id FROM symptom_alerts')).length;

  it('replays the first answer for the same key and body, storing one report and one alert', async () => {
    const body = phq9Response([1, 1, 1, 1, 1, 1, 1, 1, 2]);
    const before = { reports: await reports(), alerts: await alerts() };
    const first = await post(body, 'app-resend-1');
    expect(first.status).toBe(201);
    const again = await post(body, 'app-resend-1');
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(await reports()).toBe(before.reports + 1);
    expect(await alerts()).toBe(before.alerts + 1);
  });

  it('answers 409 idempotency-key-reused when the key comes again with another body, storing nothing', async () => {
    expect((await post(phq9Response([0, 0, 0, 0, 0, 0, 0, 0, 0]), 'app-resend-2')).status).toBe(201);
    const before = await reports();
    const other = await post(phq9Response([2, 2, 2, 2, 2, 2, 2, 2, 0]), 'app-resend-2');
    expect(other.status).toBe(409);
    expect(other.body.resourceType).toBe('OperationOutcome');
    expect(other.body.issue[0].details.coding[0].code).toBe('idempotency-key-reused');
    expect(await reports()).toBe(before);
  });

  it('stores each request without a key, and refuses a malformed key', async () => {
    const before = await reports();
    const body = phq9Response([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect((await post(body)).status).toBe(201);
    expect((await post(body)).status).toBe(201);
    expect(await reports()).toBe(before + 2);
    const bad = await post(body, 'x'.repeat(201));
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    expect(await reports()).toBe(before + 2);
  });

  it("does not replay another client's answer: a key of the GP is not the patient's", async () => {
    const res = await t.http
      .post('/symptom-reports')
      .set('Authorization', `Bearer ${KEY.gp}`)
      .set('Idempotency-Key', 'app-resend-1')
      .send(phq9Response([1, 1, 1, 1, 1, 1, 1, 1, 2]));
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
