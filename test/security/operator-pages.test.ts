import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { KEY, TEST_METRICS_TOKEN, startTestGateway, type TestGateway } from '../helpers/test-gateway';
import { close, listen, send, type RawAnswer } from './http-client';

/**
 * Issue 12, "No limits": `/metrics` answered anyone, `/admin/queues` could not be opened in a browser (bearer
 * token only), no page had a Content-Security-Policy and the dashboard said X-Powered-By. Now metrics need their
 * own token, an admin signs in once in the browser (a server-side session behind an HttpOnly, SameSite=Strict
 * cookie), and every HTML page has a CSP and fetches nothing from a third party.
 */
const HTML = { accept: 'text/html,application/xhtml+xml' };
const cookieOf = (res: RawAnswer) => {
  const set = res.headers['set-cookie'];
  return (Array.isArray(set) ? set : [set ?? ''])[0] ?? '';
};
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('operator pages', () => {
  let t: TestGateway;
  let server: Server;
  let redis: Redis;
  beforeAll(async () => {
    t = await startTestGateway({ env: { RUN_WORKERS: 'false' } });
    server = await listen(createServer(t.gateway.app));
    redis = new Redis(t.config.redisUrl);
  });
  afterAll(async () => {
    await redis.quit();
    await close(server);
    await t.close();
  });

  const login = (apiKey: string, next = '/admin/queues', headers: Record<string, string> = {}) =>
    send(server, {
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
      body: form({ apiKey, next }),
    });

  it('keeps /metrics behind METRICS_TOKEN', async () => {
    expect((await t.http.get('/metrics')).status).toBe(401);
    expect((await t.http.get('/metrics').set('Authorization', `Bearer ${KEY.admin}`)).status).toBe(401);
    const ok = await t.http.get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('sektorbro_queue_jobs');
  });

  it('sends a browser without a session to the login page, and signs an admin in with a server-side session', async () => {
    const page = await send(server, { path: '/admin/queues', headers: HTML });
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Fadmin%2Fqueues');
    const loginPage = await send(server, { path: '/login?next=%2Fadmin%2Fqueues', headers: HTML });
    expect(loginPage.status).toBe(200);
    expect(loginPage.body).toContain('name="apiKey"');

    expect((await login(`not-a-key-${Date.now()}`)).status).toBe(401);
    const hospital = await login(KEY.hospital);
    expect(hospital.status).toBe(403);
    expect(hospital.headers['set-cookie']).toBeUndefined();

    const signedIn = await login(KEY.admin);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/admin/queues');
    const cookie = cookieOf(signedIn);
    expect(cookie).toMatch(/^sektorbro_operator=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Max-Age=1800/);
    expect(cookie).not.toMatch(/Secure/i); // plain http here; see the https case below
    // The browser holds only a random id; the session is in Redis, under its hash, with an expiry.
    const id = /^sektorbro_operator=([^;]+)/.exec(cookie)![1]!;
    const key = `${t.config.queuePrefix}:operator-session:${createHash('sha256').update(id).digest('hex')}`;
    expect(await redis.ttl(key)).toBeGreaterThan(0);
    expect(await redis.get(key)).not.toContain(KEY.admin);

    const session = { cookie: cookie.split(';')[0]! };
    const dashboard = await send(server, { path: '/admin/queues', headers: { ...HTML, ...session } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toContain('<div id="root">');
    const api = await send(server, { path: '/admin/queues/api/queues', headers: session });
    expect(api.status).toBe(200);
    // A session is an admin's: it opens the JSON operator routes too.
    expect((await send(server, { path: '/dead-letters', headers: session })).status).toBe(200);

    // State changes with the cookie must come from the gateway's own pages.
    const pause = { method: 'PUT', path: '/admin/queues/api/queues/unknown-queue/pause' };
    const crossSite = await send(server, { ...pause, headers: { ...session, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toContain('csrf-check-failed');
    expect((await send(server, { ...pause, headers: session })).status).toBe(403);
    const sameSite = await send(server, { ...pause, headers: { ...session, 'sec-fetch-site': 'same-origin' } });
    expect(sameSite.status).not.toBe(403);

    // Signing out ends the session on the server; the old cookie opens nothing.
    const logoutForm = await send(server, { path: '/logout', headers: { ...HTML, ...session } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(logoutForm.body)![1]!;
    const forged = await send(server, {
      method: 'POST',
      path: '/logout',
      headers: { ...session, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ _csrf: 'guessed' }),
    });
    expect(forged.status).toBe(403);
    // The page's token without fetch metadata or Origin is not enough either (the session stays).
    const tokenOnly = await send(server, {
      method: 'POST',
      path: '/logout',
      headers: { ...session, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ _csrf: csrf }),
    });
    expect(tokenOnly.status).toBe(403);
    expect(await redis.exists(key)).toBe(1);
    const out = await send(server, {
      method: 'POST',
      path: '/logout',
      headers: { ...session, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: form({ _csrf: csrf }),
    });
    expect(out.status).toBe(303);
    expect(await redis.exists(key)).toBe(0);
    expect((await send(server, { path: '/admin/queues', headers: { ...HTML, ...session } })).status).toBe(303);
    expect((await send(server, { path: '/dead-letters', headers: session })).status).toBe(401);
  });

  it('redirects only within the gateway after sign-in, and refuses a login posted from another site', async () => {
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const res = await login(KEY.admin, next);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin/queues');
    }
    expect((await login(KEY.admin, '/admin/queues', { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('refuses a sign-in post that says neither Sec-Fetch-Site: same-origin nor a same-origin Origin (login CSRF)', async () => {
    const port = (server.address() as AddressInfo).port;
    const refused: Array<Record<string, string>> = [
      { 'sec-fetch-site': '' }, // neither header: dropped below
      { 'sec-fetch-site': 'none' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refused) {
      const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
      const res = await send(server, {
        method: 'POST',
        path: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/fhir+json', ...sent },
        body: form({ apiKey: KEY.admin, next: '/admin/queues' }),
      });
      expect([headers, res.status, res.headers['set-cookie']]).toEqual([headers, 403, undefined]);
      expect(res.body).toContain('csrf-check-failed');
    }
    // The gateway's own origin without fetch metadata (a browser that sends only Origin) signs in.
    const withOrigin = await send(server, {
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://127.0.0.1:${port}` },
      body: form({ apiKey: KEY.admin, next: '/admin/queues' }),
    });
    expect(withOrigin.status).toBe(303);
    // What Chromium sends for the sign-in form of a page served with Referrer-Policy: no-referrer (ours): an
    // opaque Origin and fetch metadata that says same-origin. It signs in (the real-browser test caught this).
    const fromOurPage = await send(server, {
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null', 'sec-fetch-site': 'same-origin' },
      body: form({ apiKey: KEY.admin, next: '/admin/queues' }),
    });
    expect(fromOurPage.status).toBe(303);
    // Signing out is state-changing too: refused from another site.
    const out = await send(server, {
      method: 'POST',
      path: '/logout',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: form({}),
    });
    expect(out.status).toBe(403);
  });

  it('puts a CSP on every HTML page, fetches nothing from third parties and never says X-Powered-By', async () => {
    const signedIn = await login(KEY.admin);
    const session = { cookie: cookieOf(signedIn).split(';')[0]! };
    const pages = {
      docs: await send(server, { path: '/docs/', headers: HTML }),
      login: await send(server, { path: '/login', headers: HTML }),
      dashboard: await send(server, { path: '/admin/queues', headers: { ...HTML, ...session } }),
      patient: await send(server, {
        path: '/patients/0101901234/disclosures',
        headers: { ...HTML, authorization: `Bearer ${KEY.admin}` },
      }),
    };
    for (const [name, page] of Object.entries(pages)) {
      expect([name, page.status]).toEqual([name, 200]);
      expect(String(page.headers['content-type'])).toContain('text/html');
      const csp = String(page.headers['content-security-policy']);
      expect([name, csp]).toEqual([name, expect.stringContaining("script-src 'self'")]);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      expect(page.headers['x-powered-by']).toBeUndefined();
      // No script, stylesheet, font or image from another site.
      const external = [...page.body.matchAll(/\b(?:src|href)\s*=\s*["']((?:https?:)?\/\/[^"']+)/gi)].map((m) => m[1]);
      expect([name, external]).toEqual([name, []]);
    }
    // The dashboard's own scripts are served by the gateway.
    const scripts = [...pages.dashboard.body.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const js = await send(server, { path: `/admin/queues/${src}`, headers: session });
      expect([src, js.status]).toEqual([src, 200]);
      expect(js.headers['x-powered-by']).toBeUndefined();
    }
    for (const path of ['/health/live', '/openapi.yaml', '/fhir/metadata', '/admin/queues/api/queues']) {
      const res = await send(server, { path, headers: session });
      expect([path, res.headers['x-powered-by']]).toEqual([path, undefined]);
    }
  });
});

describe('operator session over https', () => {
  it('marks the cookie Secure when the gateway is reached over https', async () => {
    const t = await startTestGateway({ env: { RUN_WORKERS: 'false', PUBLIC_BASE_URL: 'https://gateway.example' } });
    try {
      const res = await t.http
        .post('/login')
        .set('Sec-Fetch-Site', 'same-origin')
        .type('form')
        .send({ apiKey: KEY.admin, next: '/admin/queues' });
      expect(res.status).toBe(303);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await t.close();
    }
  });
});
