import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limits } from '../config';

/**
 * Failed authentications counted per source address (never per API key or client id: an attacker who knows a
 * client's id or key prefix must not be able to lock that client out). The first `authFailuresFree` failures in
 * the window are answered at once; each further one is answered later, doubling from 250 ms up to 8 s; past
 * `authFailuresBlock` the address gets 429 until the window ends. Counted in Redis (all replicas together),
 * in memory while Redis is not ready.
 */
export interface AuthFailures {
  /** ms until an address past the block threshold may try again; 0 when it may try now. */
  blockedForMs(address: string): Promise<number>;
  /** Counts one failure; says how long to hold the answer, or for how long the address is now blocked. */
  recordFailure(address: string): Promise<{ delayMs: number; blockedForMs: number }>;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;

export function createAuthFailures(redis: Redis, limits: Limits, keyPrefix: string): AuthFailures {
  const options = {
    points: limits.authFailuresBlock,
    duration: limits.authFailureWindowS,
    blockDuration: limits.authFailureWindowS,
    keyPrefix: `${keyPrefix}:auth-fail`,
  };
  const limiter = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(options),
  });
  const overLimit = (res: RateLimiterRes | null): number =>
    res && res.consumedPoints > limits.authFailuresBlock ? Math.max(1, res.msBeforeNext) : 0;
  return {
    async blockedForMs(address) {
      return overLimit(await limiter.get(address).catch(() => null));
    },
    async recordFailure(address) {
      let res: RateLimiterRes;
      try {
        res = await limiter.consume(address);
      } catch (e) {
        if (e instanceof RateLimiterRes) {
          return { delayMs: 0, blockedForMs: Math.max(1, e.msBeforeNext) };
        }
        return { delayMs: MAX_DELAY_MS, blockedForMs: 0 };
      }
      const beyondFree = res.consumedPoints - limits.authFailuresFree;
      const delayMs = beyondFree > 0 ? Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(beyondFree - 1, 10)) : 0;
      return { delayMs, blockedForMs: 0 };
    },
  };
}
