import { KEY, TEST_METRICS_TOKEN, startTestGateway, type TestGateway } from '../helpers/test-gateway';

describe('operations endpoints', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports liveness and readiness of the database and Redis', async () => {
    expect((await t.http.get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok' });
  });

  it('answers 503 on readiness and refuses intake once shutdown has begun', async () => {
    const other = await startTestGateway();
    try {
      other.gateway.beginShutdown();
      expect((await other.http.get('/health/ready')).status).toBe(503);
      const res = await other.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`).send({});
      expect(res.status).toBe(503);
      expect(res.body.resourceType).toBe('OperationOutcome');
    } finally {
      await other.close();
    }
  });

  it('exposes Prometheus metrics including queue depth', async () => {
    const res = await t.http.get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('sektorbro_queue_jobs');
    expect(res.text).toContain('sektorbro_delivery_latency_seconds');
  });

  it('serves the OpenAPI document and its rendering', async () => {
    const yaml = await t.http.get('/openapi.yaml');
    expect(yaml.status).toBe(200);
    expect(yaml.text).toContain('/discharge-letters');
    const docs = await t.http.get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
  });

  it('serves a CapabilityStatement without authentication', async () => {
    const res = await t.http.get('/fhir/metadata');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
  });

  it('keeps the queue dashboard for admins', async () => {
    expect((await t.http.get('/admin/queues').set('Authorization', `Bearer ${KEY.hospital}`)).status).toBe(403);
    expect((await t.http.get('/admin/queues')).status).toBe(401);
    const admin = await t.http.get('/admin/queues').set('Authorization', `Bearer ${KEY.admin}`);
    expect(admin.status).toBe(200);
  });
});
