import type { NextFunction, Request, Response } from 'express';
import { maskPath } from '../observability/log-safety';
import type { Logger } from '../observability/logger';

/** One log line per request: method, masked path (paths can hold a CPR number: /patients/{cpr}/...), status, duration, ids. Never bodies or headers. */
export function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          requestId: res.locals.requestId,
          method: req.method,
          path: maskPath(req.path),
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          client: res.locals.client?.id,
        },
        'request',
      );
    });
    next();
  };
}
