import IORedis, { type Redis } from 'ioredis';
import type { Logger } from '../observability/logger';

/**
 * Redis connections for BullMQ. Workers and the relay block on Redis, so they must never give up on a
 * command (maxRetriesPerRequest: null, BullMQ's production guide); health checks want a fast answer.
 */
export function createRedisConnection(url: string, purpose: 'worker' | 'probe'): Redis {
  return new IORedis(url, {
    maxRetriesPerRequest: purpose === 'worker' ? null : 1,
    // The probe queues while (re)connecting: readiness has its own 2 s limit and should not fail a fresh start.
    enableOfflineQueue: true,
    lazyConnect: false,
    connectTimeout: 5000,
  });
}

/**
 * Every Redis connection of one gateway process, made here and quit here: one shared by all queues (adding
 * jobs), one for health probes, and one per worker (a BullMQ worker blocks its connection). BullMQ does not
 * close a connection it was given, so `quit` does it after the components are closed.
 */
export interface RedisConnections {
  readonly queue: Redis;
  readonly probe: Redis;
  /** A new blocking connection for one worker. */
  worker(): Redis;
  quit(): Promise<void>;
}

export function createRedisConnections(url: string, logger: Logger): RedisConnections {
  const all: Redis[] = [];
  const open = (purpose: 'worker' | 'probe'): Redis => {
    const connection = createRedisConnection(url, purpose);
    connection.on('error', (err) => {
      logger.warn({ err: { message: err.message } }, 'redis connection error');
    });
    all.push(connection);
    return connection;
  };
  return {
    queue: open('worker'),
    probe: open('probe'),
    worker: () => open('worker'),
    async quit() {
      await Promise.all(all.map((c) => c.quit().catch(() => undefined)));
    },
  };
}
