import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import { artifactPath, launchChromium } from '../helpers/browser';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { EMPLOYER_CVR, GP_SOR, JOBCENTRE_MUNICIPALITY, OTHER_GP_SOR, PATIENT_CPR } from '../helpers/directory-fixture';
import { nativeLetter, sickLeaveCertificate } from '../helpers/fixtures';
import { eventually, KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * The patient's disclosure page in a real browser (headless Chromium): plain Danish by default, English on
 * request; organisations named from the directory; what went where, when, why and under which consent, what
 * was stopped and what was withheld; the consents; nothing from the data runs as HTML; and it works under a
 * strict Content-Security-Policy (no inline script or style).
 */
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Lægehuset "Andenby" & Co';
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
const MINIMAL = ['sick-leave-minimal', 'functional-capacity', 'expected-duration'];
const STRICT_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'";

describe("the patient's disclosure page in a browser", () => {
  let t: TestGateway;
  let close: () => Promise<void>;
  let server: Server;
  let base: string;
  let browser: Browser;

  const admin = (path: string, body: unknown) =>
    t.http
      .post(path)
      .set('Authorization', `Bearer ${KEY.admin}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(body));

  beforeAll(async () => {
    ({ t, close } = await startGatewayWithGp());
    // Another practice, renamed with markup in its name, that the patient refuses.
    await admin('/fhir', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          resource: {
            resourceType: 'Organization',
            identifier: [{ system: SYSTEM.sor, value: OTHER_GP_SOR }],
            name: HOSTILE_NAME,
            active: true,
          },
          request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.sor}|${OTHER_GP_SOR}` },
        },
      ],
    }).expect(200);
    await admin('/fhir/Consent', consentFor('deny', { system: SYSTEM.sor, value: OTHER_GP_SOR })).expect(201);
    // Consents for the jobcentre and the employer, so the certificate goes to both.
    await admin(
      '/fhir/Consent',
      consentFor(
        'permit',
        { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY },
        { purpose: purposes('sickness-benefit-follow-up'), class: dataClasses(...MINIMAL) },
      ),
    ).expect(201);
    await admin(
      '/fhir/Consent',
      consentFor(
        'permit',
        { system: SYSTEM.cvr, value: EMPLOYER_CVR },
        { purpose: purposes('employer-certificate'), class: dataClasses(...MINIMAL) },
      ),
    ).expect(201);

    const letter = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(letter.status).toBe(202);
    const refused = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send({ ...nativeLetter(), recipient: { sor: OTHER_GP_SOR } });
    expect(refused.status).toBe(403);
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 14 * 86400000).toISOString().slice(0, 10);
    const certificate = await t.http
      .post('/sick-leave-certificates')
      .set('Authorization', `Bearer ${KEY.gp}`)
      .send(sickLeaveCertificate(PATIENT_CPR, { from: today, expectedTo: later }, { employer: { cvr: EMPLOYER_CVR } }));
    expect(certificate.status).toBe(202);
    await eventually(
      async () => {
        const rows = await t.db.query("SELECT 1 FROM audit_events WHERE patient_cpr = $1 AND action = 'delivered'", [
          PATIENT_CPR,
        ]);
        return rows.length >= 3 ? true : undefined;
      },
      15000,
      'three deliveries',
    );

    server = t.gateway.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await close();
  });

  async function open(locale: string, query = '') {
    const context = await browser.newContext({
      locale,
      extraHTTPHeaders: { Authorization: `Bearer ${PATIENT_KEY}` },
    });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) {
        violations.push(m.text());
      }
    });
    // The page must work under a strict CSP (the gateway's own CSP header comes from another change).
    await page.route(`${base}/patients/**`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': STRICT_CSP } });
    });
    const response = await page.goto(`${base}/patients/${PATIENT_CPR}/disclosures${query}`);
    return { context, page, response, violations };
  }

  it('speaks plain Danish, names the organisations, and says what was sent, stopped and withheld', async () => {
    const { context, page, response, violations } = await open('da-DK');
    expect(response?.status()).toBe(200);
    expect(await page.getAttribute('html', 'lang')).toBe('da');
    expect(await page.textContent('h1')).toBe('Hvem har fået oplysninger om dig');
    expect(await page.locator('h2').allTextContents()).toEqual(['Oplysninger om dig', 'Dine samtykker']);
    const text = (await page.textContent('main')) ?? '';
    for (const expected of [
      'Et udskrivningsbrev',
      'En sygemelding (lægeerklæring)',
      'Psykiatrisk Center Testby',
      'Lægerne i Testby',
      'Jobcenter Testby',
      'Testfirma ApS',
      'Din behandling',
      'Oplysning til din arbejdsgiver om sygefravær',
      'Stoppet: du havde ikke givet samtykke',
      'Ikke sendt: diagnoser, medicin, kliniske notater.',
      'Nej, må ikke få',
      'Ja, må få',
      'nej, efter dit samtykke (Consent/',
    ]) {
      expect(text).toContain(expected);
    }
    // The certificate's rows name the consent that let each copy through.
    const allowedBy = await page.locator('main table:first-of-type tbody tr td:nth-child(6)').allTextContents();
    expect(allowedBy.filter((a) => a.startsWith('dit samtykke (Consent/'))).toHaveLength(2);
    expect(allowedBy).toContain('loven (behandling)');
    // Names, not SOR numbers; and never the gateway itself as the sender.
    expect(text).not.toContain(GP_SOR);
    const senders = await page.locator('main table:first-of-type tbody tr td:nth-child(3)').allTextContents();
    expect(senders.length).toBeGreaterThanOrEqual(4);
    expect(senders.map((s) => s.toLowerCase())).not.toContain('sektorbro');
    // Tables have headers; the served stylesheet applies under the strict CSP, with nothing refused.
    expect(await page.locator('table th[scope="col"]').count()).toBeGreaterThanOrEqual(14);
    expect(await page.locator('table caption').count()).toBe(2);
    expect(await page.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse")).toBe('collapse');
    expect(violations).toEqual([]);
    // The organisation's name is shown as text; its markup never runs.
    expect(text).toContain(HOSTILE_NAME);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.screenshot({ path: artifactPath('disclosures-da.png'), fullPage: true });
    await context.close();
  });

  it('speaks English on ?lang=en and to a browser that prefers English', async () => {
    for (const [locale, query] of [
      ['da-DK', '?lang=en'],
      ['en-GB', ''],
    ] as const) {
      const { context, page } = await open(locale, query);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.textContent('h1')).toBe('Who has received information about you');
      const text = (await page.textContent('main')) ?? '';
      expect(text).toContain('A discharge letter');
      expect(text).toContain('Stopped: you had not consented');
      if (query) {
        await page.screenshot({ path: artifactPath('disclosures-en.png'), fullPage: true });
        // The link back to Danish works.
        await page.click('header a');
        expect(await page.getAttribute('html', 'lang')).toBe('da');
      }
      await context.close();
    }
  });
});
