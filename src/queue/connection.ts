import IORedis, { type Redis } from 'ioredis';

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
