import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';
import { close, listen, send } from './http-client';

/**
 * Issue 12, "No limits": 3,000 wrong API keys at 460 requests/s all got 401 with no slowing down, and no client
 * was ever throttled. Now each client has a request rate counted in Redis (so two replicas share it), answered
 * with 429 and Retry-After; failed authentications are counted per source address, answered later and later,
 * then with 429, and never lock out a client whose key is right.
 */
const reasonOf = (body: string) =>
  (JSON.parse(body) as { issue: Array<{ details?: { coding?: Array<{ code: string }> } }> }).issue[0]?.details
    ?.coding?.[0]?.code;

describe('per-client request rate', () => {
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const env = { QUEUE_PREFIX: prefix, RATE_LIMIT_REQUESTS: '6', RATE_LIMIT_WINDOW_S: '120', RUN_WORKERS: 'false' };
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    // Two replicas of one gateway: the same Redis and queue prefix, each its own process state.
    a = await startTestGateway({ env });
    b = await startTestGateway({ env });
    // Until Redis is ready each replica counts in memory for itself; readiness waits for Redis.
    await a.http.get('/health/ready').expect(200);
    await b.http.get('/health/ready').expect(200);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('holds across replicas and answers 429 OperationOutcome with Retry-After, for that client only', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const replica = i % 2 === 0 ? a : b;
      const res = await replica.http.get(`/messages/${randomUUID()}`).set('Authorization', `Bearer ${KEY.hospital}`);
      statuses.push(res.status);
      expect(Number(res.headers['ratelimit-remaining'])).toBe(5 - i);
    }
    expect(statuses.every((s) => s !== 429)).toBe(true);
    const over = await a.http.get(`/messages/${randomUUID()}`).set('Authorization', `Bearer ${KEY.hospital}`);
    expect(over.status).toBe(429);
    expect(over.body.resourceType).toBe('OperationOutcome');
    expect(over.body.issue[0].code).toBe('throttled');
    expect(over.body.issue[0].details.coding[0].code).toBe('rate-limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(120);
    expect((await b.http.get(`/messages/${randomUUID()}`).set('Authorization', `Bearer ${KEY.hospital}`)).status).toBe(
      429,
    );
    // Another client is not affected, and health checks are never limited.
    expect((await b.http.get(`/messages/${randomUUID()}`).set('Authorization', `Bearer ${KEY.gp}`)).status).toBe(404);
    expect((await a.http.get('/health/live')).status).toBe(200);
  });
});

describe('failed authentication per source address', () => {
  let t: TestGateway;
  let server: Server;
  beforeAll(async () => {
    t = await startTestGateway({
      env: { AUTH_FAILURES_FREE: '2', AUTH_FAILURES_BLOCK: '4', AUTH_FAILURE_WINDOW_S: '300', RUN_WORKERS: 'false' },
    });
    server = await listen(createServer(t.gateway.app));
    await t.http.get('/health/ready').expect(200);
  });
  afterAll(async () => {
    await close(server);
    await t.close();
  });

  const attempt = (from: string, key: string) =>
    send(server, { path: '/dead-letters', from, headers: { authorization: `Bearer ${key}` } });

  it('answers wrong keys with 401, then 429 with Retry-After, without locking out right keys', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await attempt('127.0.0.2', `wrong-key-${i}-${randomUUID()}`)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const blocked = await attempt('127.0.0.2', `wrong-key-${randomUUID()}`);
    expect(blocked.status).toBe(429);
    expect(reasonOf(blocked.body)).toBe('too-many-failed-logins');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The attacker's address cannot lock out a client whose key is right, from that address or another.
    expect((await attempt('127.0.0.2', KEY.admin)).status).toBe(200);
    expect((await attempt('127.0.0.3', KEY.admin)).status).toBe(200);
    // Nor other addresses: a wrong key from elsewhere is still a plain 401.
    expect((await attempt('127.0.0.3', `wrong-key-${randomUUID()}`)).status).toBe(401);
  });
});
