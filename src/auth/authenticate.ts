import type { NextFunction, Request, Response } from 'express';
import { errors } from '../errors';
import type { ClientRegistry, GatewayClient, Role } from './clients';

declare module 'express-serve-static-core' {
  interface Locals {
    client?: GatewayClient;
  }
}

/** Resolves `Authorization: Bearer <apiKey>` to a client; 401 when missing or unknown. */
export function authenticate(registry: ClientRegistry) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      next(errors.unauthorized('Authorization: a header "Bearer <api key>" is required'));
      return;
    }
    const client = registry.byApiKey(match[1]);
    if (!client) {
      next(errors.unauthorized('Authorization: the API key is not known to this gateway'));
      return;
    }
    res.locals.client = client;
    next();
  };
}

/** 403 unless the authenticated client has one of the roles. */
export function requireRole(...roles: Role[]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const client = res.locals.client;
    if (!client) {
      next(errors.unauthorized('Authorization: a header "Bearer <api key>" is required'));
      return;
    }
    if (!roles.includes(client.role)) {
      next(errors.forbidden(`role '${client.role}' may not use this route (allowed: ${roles.join(', ')})`, 'wrong-role'));
      return;
    }
    next();
  };
}

/** The authenticated client; only call behind authenticate(). */
export function currentClient(res: Response): GatewayClient {
  const client = res.locals.client;
  if (!client) {
    throw errors.unauthorized('Authorization: a header "Bearer <api key>" is required');
  }
  return client;
}
