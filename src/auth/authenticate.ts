import type { NextFunction, Request, Response } from 'express';
import { errors } from '../errors';
import type { AuthFailures } from '../limits/auth-failures';
import type { ClientRegistry, GatewayClient, Role } from './clients';

declare module 'express-serve-static-core' {
  interface Locals {
    client?: GatewayClient;
  }
}

/**
 * Resolves `Authorization: Bearer <apiKey>` to a client; 401 when missing or unknown. Unknown keys count as
 * failed authentications of the source address (see AuthFailures): answered later and later, then 429. A
 * request that already has a client (an operator's browser session) passes.
 */
export function authenticate(registry: ClientRegistry, failures?: AuthFailures) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (res.locals.client) {
      next();
      return;
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      next(errors.unauthorized({ diagnostics: 'Authorization: a header "Bearer <api key>" is required' }));
      return;
    }
    res.locals.client = await clientOfApiKey(registry, failures, req, res, match[1]);
    next();
  };
}

/**
 * The client holding an API key, for the bearer header and the operator login alike. Throws 401 for an unknown
 * key (after the delay the address has earned) and 429 with Retry-After for an address past the failure limit;
 * even then a key already verified since start is taken, so a legitimate client sharing the address (a NAT, a
 * proxy) keeps working.
 */
export async function clientOfApiKey(
  registry: ClientRegistry,
  failures: AuthFailures | undefined,
  req: Request,
  res: Response,
  apiKey: string,
): Promise<GatewayClient> {
  const address = req.socket.remoteAddress ?? 'unknown';
  const blocked = failures ? await failures.blockedForMs(address) : 0;
  if (blocked > 0) {
    const client = registry.byVerifiedApiKey(apiKey);
    if (client) {
      return client;
    }
    throw tooManyFailures(res, blocked);
  }
  const client = await registry.byApiKey(apiKey);
  if (client) {
    return client;
  }
  if (failures) {
    const { delayMs, blockedForMs } = await failures.recordFailure(address);
    if (blockedForMs > 0) {
      throw tooManyFailures(res, blockedForMs);
    }
    if (delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  throw errors.unauthorized({ diagnostics: 'Authorization: the API key is not known to this gateway' });
}

function tooManyFailures(res: Response, blockedForMs: number) {
  res.setHeader('Retry-After', String(Math.ceil(blockedForMs / 1000)));
  return errors.tooManyRequests({
    diagnostics:
      'Authorization: too many failed authentications from this address; try again after Retry-After seconds',
    reason: 'too-many-failed-logins',
  });
}

/** 403 unless the authenticated client has one of the roles. */
export function requireRole(...roles: Role[]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const client = res.locals.client;
    if (!client) {
      next(errors.unauthorized({ diagnostics: 'Authorization: a header "Bearer <api key>" is required' }));
      return;
    }
    if (!roles.includes(client.role)) {
      next(
        errors.forbidden({
          diagnostics: `role '${client.role}' may not use this route (allowed: ${roles.join(', ')})`,
          reason: 'wrong-role',
        }),
      );
      return;
    }
    next();
  };
}

/** The authenticated client; only call behind authenticate(). */
export function currentClient(res: Response): GatewayClient {
  const client = res.locals.client;
  if (!client) {
    throw errors.unauthorized({ diagnostics: 'Authorization: a header "Bearer <api key>" is required' });
  }
  return client;
}
