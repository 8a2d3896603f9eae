import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { directoryBundle, PATIENT_CPR } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { eventually, KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';
import { close, listen, send, type RawAnswer } from './http-client';

/**
 * Issue 17, item 4, hostile side: the operator console's pages and actions open only to an admin, by session
 * or bearer key; a state-changing POST with the session cookie must come from the gateway's own page (fetch
 * metadata, Origin, or the session's CSRF token); nothing an operator or the data supplies runs as HTML; and
 * no page shows a full CPR number. A refused request changes nothing (the dead letter stays, no audit).
 */
const HTML = { accept: 'text/html,application/xhtml+xml' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const cookieOf = (res: RawAnswer) => {
  const set = res.headers['set-cookie'];
  return ((Array.isArray(set) ? set : [set ?? ''])[0] ?? '').split(';')[0]!;
};

describe('operator console under attack', () => {
  let t: TestGateway;
  let server: Server;
  let deliveryId: string;
  let messageId: string;
  let session: { cookie: string };
  let csrf: string;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    t = await startTestGateway({ env: { DELIVERY_ATTEMPTS: '1' } });
    const admin = { Authorization: `Bearer ${KEY.admin}` };
    expect(
      (
        await t.http
          .post('/fhir')
          .set(admin)
          .send(directoryBundle(`http://127.0.0.1:${port}`))
      ).status,
    ).toBe(200);
    const sent = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    messageId = sent.body.id as string;
    deliveryId = await eventually(
      async () => {
        const body = (await t.http.get(`/messages/${messageId}`).set(admin)).body;
        return body.status === 'dead' ? (body.deliveries[0].id as string) : undefined;
      },
      15000,
      'a dead letter',
    );
    server = await listen(createServer(t.gateway.app));
    const signedIn = await send(server, {
      method: 'POST',
      path: '/login',
      headers: { ...FORM, 'sec-fetch-site': 'same-origin' },
      body: form({ apiKey: KEY.admin, next: '/console' }),
    });
    expect(signedIn.status).toBe(303);
    session = { cookie: cookieOf(signedIn) };
    const page = await send(server, { path: '/console/dead-letters', headers: { ...HTML, ...session } });
    csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  });

  afterAll(async () => {
    await close(server);
    await t.close();
  });

  const pages = () => [
    '/console',
    '/console/messages',
    `/console/messages/${messageId}`,
    '/console/dead-letters',
    '/console/care',
  ];
  const replay = (headers: Record<string, string>, fields: Record<string, string> = { reason: 'because' }) =>
    send(server, {
      method: 'POST',
      path: `/console/dead-letters/${deliveryId}/replay`,
      headers: { ...FORM, ...headers },
      body: form(fields),
    });
  const unchanged = async () => {
    const rows = await t.db.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM deliveries WHERE id = $1',
      [deliveryId],
    );
    expect(rows[0]).toEqual({ status: 'dead', attempts: 1 });
    const audits = await t.db.query(
      "SELECT 1 FROM audit_events WHERE message_id = $1 AND action IN ('replayed', 'discarded')",
      [messageId],
    );
    expect(audits).toHaveLength(0);
  };

  it('sends a browser without a session to sign in, and answers other clients 401', async () => {
    for (const path of pages()) {
      const browser = await send(server, { path, headers: HTML });
      expect([path, browser.status, browser.headers.location]).toEqual([
        path,
        303,
        `/login?next=${encodeURIComponent(path)}`,
      ]);
      const api = await send(server, { path });
      expect([path, api.status]).toEqual([path, 401]);
      expect(api.body).not.toContain('<html');
    }
    for (const action of ['replay', 'discard']) {
      const res = await send(server, {
        method: 'POST',
        path: `/console/dead-letters/${deliveryId}/${action}`,
        headers: { ...FORM, ...HTML, 'sec-fetch-site': 'same-origin' },
        body: form({ reason: 'no session' }),
      });
      expect([action, res.status]).toEqual([action, 401]);
    }
    // A made-up session cookie is no session.
    const forged = await replay({ cookie: `sektorbro_operator=${'A'.repeat(43)}`, 'sec-fetch-site': 'same-origin' });
    expect(forged.status).toBe(401);
    await unchanged();
  });

  it("refuses a non-admin's key on every page and action, and a non-admin cannot sign in", async () => {
    for (const role of ['hospital', 'gp', 'jobcentre', 'employer', 'patient'] as const) {
      const apiKey = (KEY as Record<string, string>)[role]!;
      const bearer = { authorization: `Bearer ${apiKey}` };
      for (const path of pages()) {
        const res = await send(server, { path, headers: { ...HTML, ...bearer } });
        expect([role, path, res.status]).toEqual([role, path, 403]);
      }
      const res = await replay({ ...bearer, 'sec-fetch-site': 'same-origin' });
      expect([role, res.status]).toEqual([role, 403]);
      const login = await send(server, {
        method: 'POST',
        path: '/login',
        headers: { ...FORM, 'sec-fetch-site': 'same-origin' },
        body: form({ apiKey, next: '/console' }),
      });
      expect([role, login.status, login.headers['set-cookie']]).toEqual([role, 403, undefined]);
    }
    await unchanged();
  });

  it('refuses cross-site POSTs with the session cookie but without the CSRF token', async () => {
    const attempts: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      {}, // neither fetch metadata nor Origin (an old browser, or a script that is not one)
    ];
    for (const headers of attempts) {
      const forms: Array<Record<string, string>> = [{ reason: 'forged' }, { reason: 'forged', _csrf: 'guessed-token' }];
      for (const fields of forms) {
        const res = await replay({ ...session, ...headers }, fields);
        expect([headers, fields, res.status]).toEqual([headers, fields, 403]);
        expect(res.body).toContain('csrf-check-failed');
      }
    }
    const discard = await send(server, {
      method: 'POST',
      path: `/console/dead-letters/${deliveryId}/discard`,
      headers: { ...FORM, ...session, 'sec-fetch-site': 'cross-site' },
      body: form({ reason: 'forged' }),
    });
    expect(discard.status).toBe(403);
    await unchanged();
  });

  it('refuses a replay without a usable reason, in words on the page', async () => {
    const same = { ...session, ...HTML, 'sec-fetch-site': 'same-origin' };
    const missing = await replay(same, {});
    expect(missing.status).toBe(400);
    expect(missing.body).toContain('role="alert"');
    expect(missing.body).toContain('reason: required');
    const control = await replay(same, { reason: 'line\u0000break' });
    expect(control.status).toBe(400);
    const notUuid = await send(server, {
      method: 'POST',
      path: '/console/dead-letters/not-a-uuid/replay',
      headers: { ...FORM, ...same },
      body: form({ reason: 'x' }),
    });
    expect(notUuid.status).toBe(404);
    await unchanged();
  });

  it("accepts a post whose Origin is the gateway's (no fetch metadata); the token alone is not enough; an operator's markup stays text", async () => {
    const alone = await replay({ ...session, ...HTML }, { reason: 'token only', _csrf: csrf });
    expect(alone.status).toBe(403);
    expect(alone.body).toContain('csrf-check-failed');
    await unchanged();
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await replay({ ...session, ...HTML, origin }, { reason: `replayed ${hostile}`, _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/console/dead-letters?done=replayed&id=${deliveryId}`);
    const rows = await t.db.query<{ action: string }>(
      "SELECT action FROM audit_events WHERE message_id = $1 AND action = 'replayed'",
      [messageId],
    );
    expect(rows).toHaveLength(1);
    const page = await send(server, { path: `/console/messages/${messageId}`, headers: { ...HTML, ...session } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('replayed');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('&#60;img src=x');
    // An echo parameter is shown only when it is a UUID.
    const echo = await send(server, {
      path: `/console/dead-letters?done=replayed&id=${encodeURIComponent(hostile)}`,
      headers: { ...HTML, ...session },
    });
    expect(echo.body).not.toContain('img src');
  });

  it('serves the pages under the CSP, without script, and never with a full CPR number', async () => {
    for (const path of pages()) {
      const res = await send(server, { path, headers: { ...HTML, ...session } });
      expect([path, res.status]).toEqual([path, 200]);
      expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
      expect(res.body).not.toMatch(/<script/i);
      expect(res.body).not.toContain(PATIENT_CPR);
      expect(res.body).toMatch(/<html lang="en">/);
    }
  });
});
