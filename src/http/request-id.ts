import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

declare module 'express-serve-static-core' {
  interface Locals {
    requestId?: string;
  }
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Takes X-Request-Id from the caller when it is sane, else makes one; echoes it so support can match logs. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get('x-request-id');
    const id = given && SAFE_ID.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
}
