import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { errors } from '../errors';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';

/**
 * Liveness and readiness (database and Redis answer) without authentication, for load balancers; Prometheus
 * metrics behind their own bearer token (METRICS_TOKEN), which is not an API key: a scraper gets no client.
 */
export function operationsRoutes(deps: {
  db: Db;
  redis: Redis;
  metrics: Metrics;
  queues: Queue[];
  isShuttingDown: () => boolean;
  metricsToken: string | undefined;
}): Router {
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
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'unavailable',
      checks: { database, redis },
      ...(deps.isShuttingDown() ? { shuttingDown: true } : {}),
    });
  });

  router.get('/metrics', metricsAuth(deps.metricsToken), async (_req, res) => {
    await Promise.all(
      deps.queues.map(async (queue) => {
        const counts = await queue
          .getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
          .catch(() => ({}));
        for (const [state, value] of Object.entries(counts)) {
          deps.metrics.queueDepth.set({ queue: queue.name, state }, value);
        }
      }),
    );
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}

/** 401 unless `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; 404 when no token is set. */
function metricsAuth(token: string | undefined) {
  const expected = token === undefined ? undefined : createHash('sha256').update(token).digest();
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!expected) {
      next(
        errors.notFound({ diagnostics: '/metrics is off: set METRICS_TOKEN to have the gateway serve its metrics' }),
      );
      return;
    }
    const given = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      next(errors.unauthorized({ diagnostics: 'Authorization: /metrics needs "Bearer <METRICS_TOKEN>"' }));
      return;
    }
    next();
  };
}

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'error'> {
  const timeout = new Promise<'error'>((resolve) =>
    setTimeout(() => {
      resolve('error');
    }, 2000).unref(),
  );
  return Promise.race([
    check().then(
      () => 'ok' as const,
      () => 'error' as const,
    ),
    timeout,
  ]);
}
