import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { createAuthFailures } from '../../src/limits/auth-failures';
import { createRedisConnection } from '../../src/queue/connection';

/** The progression itself, against real Redis: free attempts, then doubling delays, then a block. */
describe('failed-authentication counter', () => {
  const redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'probe');
  afterAll(async () => {
    await redis.quit();
  });

  it('answers the first failures at once, later ones after doubling delays, then blocks the address', async () => {
    const { limits } = loadConfig({ AUTH_FAILURES_FREE: '3', AUTH_FAILURES_BLOCK: '7', AUTH_FAILURE_WINDOW_S: '60' });
    const failures = createAuthFailures(redis, limits, `test-${randomBytes(5).toString('hex')}`);
    await redis.ping();
    const seen = [];
    for (let i = 0; i < 8; i += 1) {
      seen.push(await failures.recordFailure('192.0.2.7'));
    }
    expect(seen.map((s) => s.delayMs)).toEqual([0, 0, 0, 250, 500, 1000, 2000, 0]);
    expect(seen.slice(0, 7).every((s) => s.blockedForMs === 0)).toBe(true);
    expect(seen[7]!.blockedForMs).toBeGreaterThan(0);
    expect(await failures.blockedForMs('192.0.2.7')).toBeGreaterThan(0);
    expect(await failures.blockedForMs('192.0.2.8')).toBe(0);
  });
});
