import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../observability/logger';

/** Paths can hold a CPR number (/patients/{cpr}/...): mask any 10-digit run before it reaches a log. */
export function maskPath(path: string): string {
  return path.replace(/\d{6}-?\d{4}/g, '**********');
}

/** One log line per request: method, masked path, status, duration, ids. Never bodies or headers. */
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
