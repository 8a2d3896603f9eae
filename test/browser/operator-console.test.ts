import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEvent } from 'fhir/r4';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { artifactPath, launchChromium } from '../helpers/browser';
import { directoryBundle, PATIENT_CPR } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { eventually, KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Issue 17, item 4: the operator console in a real browser (Debian's headless Chromium driven by
 * playwright-core). The GP's endpoint is a loopback port that refuses connections, so the first letters die
 * after their few attempts; then the GP system comes up on that port, a new letter is delivered, and the
 * operator replays one dead letter (delivered) and discards the other (with a reason), all through the
 * console's forms under the gateway's own Content-Security-Policy. Screenshots go to test-artifacts/.
 */
describe('the operator console in a browser', () => {
  let t: TestGateway;
  let gp: MessageReceiver | undefined;
  let gpPort: number;
  let server: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const violations: string[] = [];
  const hospital = { Authorization: `Bearer ${KEY.hospital}` };
  const admin = { Authorization: `Bearer ${KEY.admin}` };

  const status = async (messageId: string) =>
    (await t.http.get(`/messages/${messageId}`).set(admin)).body as {
      status: string;
      deliveries: Array<{ id: string; status: string }>;
    };
  const settled = (messageId: string, wanted: string) =>
    eventually(
      async () => {
        const body = await status(messageId);
        return body.status === wanted ? body : undefined;
      },
      20000,
      `message ${messageId} ${wanted}`,
    );
  const send = async () => {
    const sent = await t.http.post('/discharge-letters').set(hospital).send(nativeLetter());
    expect(sent.status).toBe(202);
    return sent.body.id as string;
  };

  let deadToReplay: { messageId: string; deliveryId: string };
  let deadToDiscard: { messageId: string; deliveryId: string };
  let delivered: string;

  beforeAll(async () => {
    // A port nobody listens on (yet): connections are refused, as when the GP system is down.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    gpPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));

    t = await startTestGateway({ env: { DELIVERY_ATTEMPTS: '2' } });
    const loaded = await t.http
      .post('/fhir')
      .set(admin)
      .send(directoryBundle(`http://127.0.0.1:${gpPort}`));
    expect(loaded.status).toBe(200);

    const first = await send();
    const second = await send();
    const a = await settled(first, 'dead');
    const b = await settled(second, 'dead');
    deadToReplay = { messageId: first, deliveryId: a.deliveries[0]!.id };
    deadToDiscard = { messageId: second, deliveryId: b.deliveries[0]!.id };

    // The GP system comes back on the same port: new letters get through.
    gp = await startMessageReceiver({ port: gpPort });
    delivered = await send();
    await settled(delivered, 'delivered');

    server = t.gateway.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) {
        violations.push(m.text());
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await t?.close();
    await gp?.close();
  });

  const noFullCpr = async () => {
    expect(await page.content()).not.toContain(PATIENT_CPR);
  };

  it('sends a browser to the sign-in page, and shows the overview after an admin signs in', async () => {
    const first = await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(first?.status()).toBe(200);
    await page.getByLabel('API key of an admin client').fill(KEY.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console`);

    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('h1')).toBe('Overview');
    expect(await page.locator('h2').allTextContents()).toEqual([
      'Messages in the last hour, per kind',
      'Deliveries in the last hour, per recipient',
      'Endpoints',
      'Queue depth',
      'Subscriptions',
    ]);
    // The charts: three discharge letters this hour, all to the one GP.
    const kindChart = page.locator('svg#chart-kind');
    expect(await kindChart.getAttribute('role')).toBe('img');
    expect(await page.locator('#chart-kind-desc').textContent()).toContain('discharge-letter 3');
    expect(await kindChart.locator('rect').count()).toBeGreaterThan(0);
    expect(await page.getByRole('table', { name: /Messages accepted per 5 minutes, by kind/ }).textContent()).toContain(
      'discharge-letter',
    );
    // The endpoint: one of three finished deliveries got through (two died), with a time to deliver.
    const endpointRow = page.getByRole('row', { name: new RegExp(`http://127\\.0\\.0\\.1:${gpPort}`) });
    const cells = await endpointRow.locator('td').allTextContents();
    expect(cells[1]).toBe('3'); // finished
    expect(cells[2]).toBe('33.3 %'); // success rate
    expect(cells[3]).toMatch(/^\d+(\.\d)? (ms|s)$/); // median time to deliver
    expect(cells[7]).toMatch(/ECONNREFUSED|refused|connect/i); // newest error
    expect(await page.getByRole('link', { name: /2 dead letters/ }).count()).toBe(1);
    expect(await page.getByRole('table', { name: /Jobs per state/ }).textContent()).toContain('delivery');
    await noFullCpr();
    await page.screenshot({ path: artifactPath('console-overview.png'), fullPage: true });
  });

  it("lists the messages and shows a delivered message's timeline, the patient masked", async () => {
    await page.goto(`${base}/console/messages`);
    expect(await page.textContent('h1')).toBe('Messages');
    expect(await page.getByRole('row', { name: new RegExp(delivered) }).textContent()).toContain('010190-****');
    await noFullCpr();
    await page.getByRole('link', { name: delivered }).click();
    await page.waitForURL(`${base}/console/messages/${delivered}`);
    const timeline = page.getByRole('table', { name: /Timeline of delivery/ });
    const events = await timeline.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(events).toEqual(['accepted', 'delivered']);
    await noFullCpr();
    await page.screenshot({ path: artifactPath('console-message-delivered.png'), fullPage: true });

    await page.goto(`${base}/console/messages?status=dead`);
    const deadRows = await page.locator('tbody tr th a').allTextContents();
    expect(deadRows.sort()).toEqual([deadToReplay.messageId, deadToDiscard.messageId].sort());
    await page.getByRole('link', { name: deadToReplay.messageId }).click();
    expect(await page.locator('h2').first().textContent()).toContain('dead');
    expect(await page.getByRole('table', { name: /Timeline of delivery/ }).textContent()).toContain('dead-letter');
  });

  it('replays a dead letter, which is then delivered, and discards another with a reason; both audited', async () => {
    await page.goto(`${base}/console/dead-letters`);
    expect(await page.textContent('h1')).toBe('Dead letters');
    const row = page.locator(`tr#dl-${deadToReplay.deliveryId}`);
    expect(await row.textContent()).toContain('dead');
    expect(await page.locator(`tr#dl-${deadToDiscard.deliveryId}`).count()).toBe(1);
    await page.screenshot({ path: artifactPath('console-dead-letters.png'), fullPage: true });

    // The reason is required: the browser will not send the form without it.
    await row.getByRole('button', { name: 'Replay' }).click();
    expect(new URL(page.url()).search).toBe('');
    await row.getByLabel('Reason to replay').fill('GP system is back up');
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.waitForURL(/done=replayed/);
    expect(await page.getByRole('status').textContent()).toContain(`Delivery ${deadToReplay.deliveryId} was replayed`);
    expect(await page.locator(`tr#dl-${deadToReplay.deliveryId}`).count()).toBe(0);
    await settled(deadToReplay.messageId, 'delivered');
    expect(gp!.received.length).toBeGreaterThanOrEqual(2);

    const other = page.locator(`tr#dl-${deadToDiscard.deliveryId}`);
    await other.getByLabel('Reason to discard').fill('sent again by the hospital by other means');
    await other.getByRole('button', { name: 'Discard' }).click();
    await page.waitForURL(/done=discarded/);
    expect(await page.locator(`tr#dl-${deadToDiscard.deliveryId}`).count()).toBe(0);
    expect(await page.getByRole('row').filter({ hasText: 'No dead letters.' }).count()).toBe(1);

    await page.goto(`${base}/console/messages/${deadToReplay.messageId}`);
    const events = await page
      .getByRole('table', { name: /Timeline of delivery/ })
      .locator('tbody tr td:nth-child(2)')
      .allTextContents();
    expect(events).toEqual(['accepted', 'dead-letter', 'replayed', 'delivered']);
    // Delivered now: the replay's note is in the timeline, not shown as an error.
    expect(await page.textContent('main')).not.toContain('Last error');
    await page.screenshot({ path: artifactPath('console-message-replayed.png'), fullPage: true });

    const audits = await t.db.query<{ action: string; resource: AuditEvent }>(
      "SELECT action, resource FROM audit_events WHERE action IN ('replayed', 'discarded') ORDER BY recorded",
    );
    expect(audits.map((a) => a.action)).toEqual(['replayed', 'discarded']);
    expect(JSON.stringify(audits[0]!.resource)).toContain('GP system is back up');
    expect(JSON.stringify(audits[1]!.resource)).toContain('demo-admin');
  });

  it('loaded every page without a Content-Security-Policy violation', () => {
    expect(violations).toEqual([]);
  });
});
