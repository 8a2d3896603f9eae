import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';

/** Liveness, readiness (database and Redis answer) and Prometheus metrics: no authentication. */
export function operationsRoutes(deps: { db: Db; redis: Redis; metrics: Metrics; queues: Queue[]; isShuttingDown: () => boolean }): Router {
  const router = Router();

  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/health/ready', async (_req, res) => {
    const [database, redis] = await Promise.all([
      probe(() => deps.db.query('SELECT 1')),
      probe(() => deps.redis.ping()),
    ]);
    const ok = database === 'ok' && redis === 'ok' && !deps.isShuttingDown();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { database, redis }, ...(deps.isShuttingDown() ? { shuttingDown: true } : {}) });
  });

  router.get('/metrics', async (_req, res) => {
    await Promise.all(
      deps.queues.map(async (queue) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed').catch(() => ({}));
        for (const [state, value] of Object.entries(counts)) {
          deps.metrics.queueDepth.set({ queue: queue.name, state }, value);
        }
      }),
    );
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'error'> {
  const timeout = new Promise<'error'>((resolve) => setTimeout(() => { resolve('error'); }, 2000).unref());
  return Promise.race([check().then(() => 'ok' as const, () => 'error' as const), timeout]);
}
