import { createHash, randomBytes } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import { GatewayError, errors, escapeXml } from '../errors';
import type { AuthFailures } from '../limits/auth-failures';
import { clientOfApiKey } from './authenticate';
import type { ClientRegistry, GatewayClient, Role } from './clients';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set when the request is authenticated by an operator's browser session (not by a bearer key). */
    operatorSession?: { readonly csrfToken: string };
  }
}

/**
 * Browser sessions for operators (the queue dashboard, the operator console): an admin client signs in once
 * with its API key on `GET/POST /login`; the browser then holds only a random session id in a cookie that is
 * HttpOnly, SameSite=Strict, Secure when the gateway is reached over https, and scoped to the whole gateway.
 * The session lives in Redis (so every replica knows it) under the SHA-256 of its id, expires after
 * `ttlS` without use and at most 12 hours after sign-in, and ends on `POST /logout`.
 *
 * CSRF: besides SameSite=Strict, every state-changing operator-session request (anything but GET/HEAD/OPTIONS
 * authenticated by the cookie, and the sign-in and sign-out posts themselves) must say it comes from the gateway's
 * own pages: `Sec-Fetch-Site: same-origin`, else (a browser without fetch metadata) an `Origin` equal to the
 * gateway's (OWASP CSRF cheat sheet: fetch metadata, verifying origin with standard headers). A request that says
 * neither is refused (403 csrf-check-failed): every browser sends Origin on a POST, so its absence is not a
 * browser of ours. A cookie-authenticated request must in addition carry no foreign site: where it names neither,
 * the session's token (`X-CSRF-Token` or form field `_csrf`, which our forms carry) does not stand in for them, as
 * a sign-in has no session and thus no token to check, and one rule for all is the rule that is kept.
 *
 * Use: `app.use(sessions.routes())` (login, logout) and `app.use(sessions.middleware())` before authenticate();
 * protect a page with `sessions.requireOperator()`, which sends a browser without a session to the login page.
 */
export interface OperatorSessions {
  routes(): Router;
  middleware(): RequestHandler;
  requireOperator(): RequestHandler;
}

export interface OperatorSessionOptions {
  redis: Redis;
  keyPrefix: string;
  clients: ClientRegistry;
  failures: AuthFailures | undefined;
  /** Idle lifetime in seconds. */
  ttlS: number;
  /** The gateway's public base URL: its scheme decides Secure, its origin is an accepted Origin. */
  publicBaseUrl: string;
  /** Roles that may sign in; admin by default. */
  roles?: readonly Role[];
}

export const SESSION_COOKIE = 'sektorbro_operator';
const MAX_LIFETIME_MS = 12 * 3600 * 1000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface StoredSession {
  clientId: string;
  csrfToken: string;
  createdAt: number;
}

export function createOperatorSessions(options: OperatorSessionOptions): OperatorSessions {
  const roles = options.roles ?? ['admin'];
  const publicOrigin = new URL(options.publicBaseUrl).origin;
  const keyOf = (id: string) =>
    `${options.keyPrefix}:operator-session:${createHash('sha256').update(id).digest('hex')}`;
  const secure = (req: Request) => req.secure || publicOrigin.startsWith('https:');

  async function read(req: Request): Promise<{ id: string; session: StoredSession } | undefined> {
    const id = cookie(req, SESSION_COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
      return undefined;
    }
    const text = await options.redis.get(keyOf(id)).catch(() => null);
    if (!text) {
      return undefined;
    }
    const session = JSON.parse(text) as StoredSession;
    if (Date.now() - session.createdAt > MAX_LIFETIME_MS) {
      await options.redis.del(keyOf(id)).catch(() => undefined);
      return undefined;
    }
    return { id, session };
  }

  /**
   * Fetch metadata and Origin, each where sent, say the gateway's own origin; and at least one is sent. `Origin:
   * null` names no origin: a browser sends it for a form posted from a page whose Referrer-Policy is no-referrer
   * (the gateway's pages, through helmet), so Sec-Fetch-Site alone decides then, and without it the post is refused.
   */
  function sameOrigin(req: Request): boolean {
    const site = req.get('sec-fetch-site');
    const sent = req.get('origin');
    const origin = sent === 'null' ? undefined : sent;
    if (site === undefined && origin === undefined) {
      return false;
    }
    const siteOk = site === undefined || site === 'same-origin';
    const originOk =
      origin === undefined || origin === publicOrigin || origin === `${req.protocol}://${req.get('host') ?? ''}`;
    return siteOk && originOk;
  }

  const setCookie = (req: Request, res: Response, value: string, maxAgeS: number) => {
    res.cookie(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(req),
      path: '/',
      maxAge: maxAgeS * 1000,
    });
  };

  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });

  return {
    middleware() {
      return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
        // A bearer key wins: API clients never depend on a cookie.
        if (req.get('authorization') || res.locals.client) {
          next();
          return;
        }
        const found = await read(req);
        if (!found) {
          next();
          return;
        }
        const client = options.clients.byId(found.session.clientId);
        if (!client || !roles.includes(client.role)) {
          next();
          return;
        }
        if (!SAFE_METHODS.has(req.method) && !sameOrigin(req)) {
          next(crossSite('a state-changing request with an operator session'));
          return;
        }
        await options.redis.expire(keyOf(found.id), options.ttlS).catch(() => undefined);
        res.locals.client = client;
        res.locals.operatorSession = { csrfToken: found.session.csrfToken };
        next();
      };
    },

    requireOperator() {
      return (req: Request, res: Response, next: NextFunction): void => {
        const client = res.locals.client;
        if (!client && !req.get('authorization') && req.method === 'GET' && wantsHtml(req)) {
          res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
          return;
        }
        if (!client) {
          next(
            errors.unauthorized({
              diagnostics: 'Authorization: a header "Bearer <api key>" or an operator session is required',
            }),
          );
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
    },

    routes() {
      const router = Router();
      router.get('/login', async (req, res) => {
        const found = await read(req);
        const client = found ? options.clients.byId(found.session.clientId) : undefined;
        sendPage(res, 200, loginPage(localPath(req.query.next), client, found?.session.csrfToken));
      });
      router.post('/login', form, async (req, res) => {
        // Login CSRF: a foreign page must not sign the operator's browser in (as the attacker's client).
        if (!sameOrigin(req)) {
          throw crossSite('a sign-in');
        }
        const body = (req.body ?? {}) as Record<string, unknown>;
        const next = localPath(body.next);
        // A browser gets the sign-in page again with the problem in words; any other client an OperationOutcome.
        const refuse = (error: GatewayError, message: string): void => {
          if (!wantsHtml(req)) {
            throw error;
          }
          sendPage(res, error.status, loginPage(next, undefined, undefined, message));
        };
        const apiKey = typeof body.apiKey === 'string' ? body.apiKey.trim() : '';
        if (!apiKey) {
          refuse(
            errors.invalid({
              diagnostics: 'apiKey: the form needs an API key',
              expression: 'apiKey',
              reason: 'missing-field',
            }),
            'Enter the API key of an admin client.',
          );
          return;
        }
        let client: GatewayClient;
        try {
          client = await clientOfApiKey(options.clients, options.failures, req, res, apiKey);
        } catch (e) {
          if (!(e instanceof GatewayError) || (e.status !== 401 && e.status !== 429)) {
            throw e;
          }
          refuse(
            e,
            e.status === 429 ? 'Too many failed sign-ins from this address; try again later.' : 'Unknown API key.',
          );
          return;
        }
        if (!roles.includes(client.role)) {
          refuse(
            errors.forbidden({
              diagnostics: `role '${client.role}' may not sign in here (allowed: ${roles.join(', ')})`,
              reason: 'wrong-role',
            }),
            `Only ${roles.join(', ')} clients may sign in here.`,
          );
          return;
        }
        const id = randomBytes(32).toString('base64url');
        const session: StoredSession = {
          clientId: client.id,
          csrfToken: randomBytes(32).toString('base64url'),
          createdAt: Date.now(),
        };
        try {
          await options.redis.set(keyOf(id), JSON.stringify(session), 'EX', options.ttlS);
        } catch (e) {
          throw errors.unavailable(
            { diagnostics: 'sessions are kept in Redis, which is unavailable; try again in a moment' },
            e,
          );
        }
        setCookie(req, res, id, options.ttlS);
        res.redirect(303, next);
      });
      router.get('/logout', async (req, res) => {
        const found = await read(req);
        const client = found ? options.clients.byId(found.session.clientId) : undefined;
        sendPage(res, 200, loginPage('/admin/queues', client, found?.session.csrfToken));
      });
      router.post('/logout', form, async (req, res) => {
        if (!sameOrigin(req)) {
          throw crossSite('a sign-out');
        }
        const found = await read(req);
        if (found) {
          await options.redis.del(keyOf(found.id)).catch(() => undefined);
        }
        res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: secure(req), path: '/' });
        res.redirect(303, '/login');
      });
      return router;
    },
  };
}

/** 403 csrf-check-failed naming what must be shown: the headers a browser sends from the gateway's own page. */
function crossSite(what: string): GatewayError {
  return errors.forbidden({
    diagnostics: `${what} must come from the gateway's own pages: Sec-Fetch-Site: same-origin, or an Origin header equal to the gateway's origin`,
    reason: 'csrf-check-failed',
  });
}

/** A cookie's value from the Cookie header (RFC 6265 §5.4), without a cookie-parsing dependency. */
function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

function wantsHtml(req: Request): boolean {
  return req.accepts(['application/json', 'application/fhir+json', 'text/html']) === 'text/html';
}

/** Only a path on this gateway ("/admin/queues"), never another site ("//evil", "https://…"): no open redirect. */
function localPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : '/admin/queues';
}

function sendPage(res: Response, status: number, html: string): void {
  res.status(status).type('html').send(html);
}

function loginPage(
  next: string,
  signedIn: GatewayClient | undefined,
  csrfToken: string | undefined,
  message?: string,
): string {
  const body = signedIn
    ? `<p>Signed in as <strong>${escapeXml(signedIn.id)}</strong>.</p>
<p><a href="${escapeXml(next)}">Continue</a></p>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${escapeXml(csrfToken ?? '')}"><button type="submit">Sign out</button></form>`
    : `<form method="post" action="/login">
<label for="apiKey">API key of an admin client</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="off" required>
<input type="hidden" name="next" value="${escapeXml(next)}">
<button type="submit">Sign in</button>
</form>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sektorbro operator sign-in</title>
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem}label,input,button{display:block;margin:.5rem 0}input{width:100%;padding:.4rem}.error{color:#a00000}</style>
</head><body><main>
<h1>Sektorbro operator sign-in</h1>
${message ? `<p class="error" role="alert">${escapeXml(message)}</p>` : ''}${body}
</main></body></html>`;
}
