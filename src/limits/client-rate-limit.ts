import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limits } from '../config';
import { errors } from '../errors';
import type { Logger } from '../observability/logger';

/**
 * Per-client request rate (fixed window of `requestWindowS`, `requestsPerWindow` requests), counted in Redis so
 * the limit holds across replicas (rate-limiter-flexible's atomic Redis counter). While Redis is not ready each
 * process counts for itself (its in-memory insurance limiter), so a Redis outage neither stops intake nor lifts
 * the limit. Over the limit: 429 OperationOutcome with `Retry-After` (seconds, RFC 9110 §10.2.3); every answer
 * carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).
 * Runs after authentication: the counter's key is the client id.
 */
export function clientRateLimit(redis: Redis, limits: Limits, keyPrefix: string, logger: Logger) {
  const options = { points: limits.requestsPerWindow, duration: limits.requestWindowS };
  const limiter = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    keyPrefix: `${keyPrefix}:rate`,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: `${keyPrefix}:rate` }),
  });
  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    const client = res.locals.client;
    if (!client) {
      next();
      return;
    }
    let result: RateLimiterRes;
    try {
      result = await limiter.consume(client.id);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) {
        // Neither Redis nor the insurance answered: let the request through rather than refuse everyone.
        logger.warn({ err: { message: (e as Error).message } }, 'rate limiter unavailable');
        next();
        return;
      }
      setHeaders(res, limits.requestsPerWindow, e);
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(e.msBeforeNext / 1000))));
      next(
        errors.tooManyRequests({
          diagnostics: `client ${client.id}: more than ${limits.requestsPerWindow} requests in ${limits.requestWindowS} s; try again after Retry-After seconds`,
          reason: 'rate-limited',
        }),
      );
      return;
    }
    setHeaders(res, limits.requestsPerWindow, result);
    next();
  };
}

function setHeaders(res: Response, limit: number, result: RateLimiterRes): void {
  res.setHeader('RateLimit-Limit', String(limit));
  res.setHeader('RateLimit-Remaining', String(Math.max(0, result.remainingPoints)));
  res.setHeader('RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
}
