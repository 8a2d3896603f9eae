import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Consent } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import type { Db } from '../../src/store/db';
import { GP_SOR, PATIENT_CPR, directoryBundle } from '../helpers/directory-fixture';
import { createTestDb } from '../helpers/test-db';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/** Consent records, who may record them, enforcement at intake and before delivery, and the disclosure log. */
const nativeLetter = () =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/discharge-letter.native.json'), 'utf8')) as Record<
    string,
    unknown
  >;
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
const JOBCENTRE = { system: SYSTEM.municipality, value: '0101' };

const consent = consentFor;
const WORK_CAPACITY = {
  purpose: purposes('work-capacity-assessment'),
  class: dataClasses('functional-capacity', 'expected-duration'),
};

describe('consent', () => {
  let gp: MessageReceiver;
  let db: Db;
  let t: TestGateway;

  beforeAll(async () => {
    gp = await startMessageReceiver();
    db = await createTestDb();
    t = await startTestGateway({ db });
    await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(gp.url)).expect(200);
  });
  afterAll(async () => {
    await t.close();
    await db.close();
    await gp.close();
  });

  const postConsent = (key: string, body: unknown) =>
    t.http
      .post('/fhir/Consent')
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(body));

  it.each([
    [
      "a jobcentre records the citizen's permission for itself",
      KEY.jobcentre,
      consent('permit', JOBCENTRE, {
        purpose: purposes('work-capacity-assessment'),
        class: dataClasses('functional-capacity'),
      }),
      201,
    ],
    ['a jobcentre may not record a deny', KEY.jobcentre, consent('deny', JOBCENTRE), 403],
    [
      'a jobcentre may not record a permission for another municipality',
      KEY.jobcentre,
      consent('permit', { system: SYSTEM.municipality, value: '0751' }, WORK_CAPACITY),
      403,
    ],
    ["a GP records a patient's objection", KEY.gp, consent('deny', JOBCENTRE), 201],
    ['a patient records their own objection', PATIENT_KEY, consent('deny', JOBCENTRE), 201],
    ['a patient may not record for someone else', PATIENT_KEY, consent('deny', JOBCENTRE, {}, '0202902345'), 403],
    ['an employer may not record consents', KEY.employer, consent('permit', JOBCENTRE, WORK_CAPACITY), 403],
  ])('%s', async (_name, key, body, status) => {
    const res = await postConsent(key, body);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe(status === 201 ? 'Consent' : 'OperationOutcome');
  });

  it('refuses a consent without a CPR-identified patient or without policy (ppc-1)', async () => {
    const noPatient = consent('deny', JOBCENTRE);
    delete noPatient.patient;
    const res = await postConsent(KEY.gp, noPatient);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Consent.patient.identifier');
    const noPolicy = consent('deny', JOBCENTRE);
    delete noPolicy.policyRule;
    const res2 = await postConsent(KEY.gp, noPolicy);
    expect(res2.status).toBe(400);
    expect(JSON.stringify(res2.body)).toContain('ppc-1');
  });

  it('reads, searches, updates and withdraws a consent, keeping the record', async () => {
    const created = await postConsent(KEY.jobcentre, consent('permit', JOBCENTRE, WORK_CAPACITY));
    const id = created.body.id as string;
    expect(created.headers.location).toBe(`/fhir/Consent/${id}`);
    const read = await t.http.get(`/fhir/Consent/${id}`).set('Authorization', `Bearer ${KEY.jobcentre}`);
    expect(read.body.meta.versionId).toBe('1');
    expect((await t.http.get(`/fhir/Consent/${id}`).set('Authorization', `Bearer ${KEY.hospital}`)).status).toBe(404);

    const search = await t.http
      .get(`/fhir/Consent?patient=${PATIENT_CPR}&status=active`)
      .set('Authorization', `Bearer ${KEY.jobcentre}`);
    expect(search.body.entry.map((e: { resource: Consent }) => e.resource.id)).toContain(id);

    const changed = {
      ...read.body,
      provision: { ...read.body.provision, period: { start: '2026-11-22', end: '2027-05-22' } },
    };
    const put = await t.http
      .put(`/fhir/Consent/${id}`)
      .set('Authorization', `Bearer ${KEY.jobcentre}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(changed));
    expect(put.status).toBe(200);
    expect(put.body.meta.versionId).toBe('2');

    const withdrawn = await t.http.delete(`/fhir/Consent/${id}`).set('Authorization', `Bearer ${PATIENT_KEY}`);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('inactive');
    const after = await t.http.get(`/fhir/Consent/${id}`).set('Authorization', `Bearer ${KEY.admin}`);
    expect(after.body.status).toBe('inactive');
  });

  it('refuses at intake a letter the patient denied, with 403, nothing stored, and logs the refusal', async () => {
    const other = '0303903456';
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: SYSTEM.cpr, value: other }],
              generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: GP_SOR } }],
            },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      })
      .expect(200);
    const deny = await postConsent(KEY.admin, consent('deny', { system: SYSTEM.sor, value: GP_SOR }, {}, other));
    expect(deny.status).toBe(201);
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const letter = nativeLetter();
    (letter.patient as { cpr: string }).cpr = other;
    const res = await t.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`).send(letter);
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.coding[0].code).toBe('consent-denied');
    expect(JSON.stringify(res.body)).not.toContain(other);
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    expect(after[0]?.n).toBe(before[0]?.n);
    const log = await t.http.get(`/fhir/AuditEvent?patient=${other}`).set('Authorization', `Bearer ${KEY.admin}`);
    expect(
      log.body.entry.map((e: { resource: { subtype: Array<{ code: string }> } }) => e.resource.subtype[0]!.code),
    ).toContain('refused');
  });

  it('blocks a queued message when the patient objects before delivery, and tells the sender why', async () => {
    const queueDb = await createTestDb();
    const intake = await startTestGateway({ db: queueDb, env: { RUN_WORKERS: 'false' } });
    await intake.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle(gp.url))
      .expect(200);
    const res = await intake.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(202);
    const deny = await intake.http
      .post('/fhir/Consent')
      .set('Authorization', `Bearer ${PATIENT_KEY}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(consent('deny', { system: SYSTEM.sor, value: GP_SOR })));
    expect(deny.status).toBe(201);
    await intake.close();
    const before = gp.received.length;

    const worker = await startTestGateway({ db: queueDb });
    try {
      const tracking = await eventually(async () => {
        const r = await worker.http
          .get(`/messages/${res.body.id as string}`)
          .set('Authorization', `Bearer ${KEY.hospital}`);
        return r.body.status === 'blocked' ? r.body : undefined;
      });
      expect(tracking.deliveries[0].lastError).toMatch(/consent/);
      expect(tracking.deliveries[0].attempts).toBe(0);
      expect(gp.received.length).toBe(before);
      const log = await worker.http
        .get(`/patients/${PATIENT_CPR}/disclosures`)
        .set('Authorization', `Bearer ${PATIENT_KEY}`);
      expect(log.status).toBe(200);
      expect(log.body.entries.map((e: { action: string }) => e.action)).toContain('blocked');
    } finally {
      await worker.close();
      await queueDb.close();
    }
  });

  it("shows the patient their disclosure log, in JSON and as a page, and nobody else's", async () => {
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    await eventually(async () => {
      const r = await t.http.get(`/messages/${res.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? true : undefined;
    });
    const json = await t.http.get(`/patients/${PATIENT_CPR}/disclosures`).set('Authorization', `Bearer ${PATIENT_KEY}`);
    expect(json.status).toBe(200);
    const delivered = json.body.entries.find((e: { action: string }) => e.action === 'delivered');
    expect(delivered).toMatchObject({ what: 'a discharge letter', outcome: 'disclosed' });
    const html = await t.http
      .get(`/patients/${PATIENT_CPR}/disclosures`)
      .set('Authorization', `Bearer ${PATIENT_KEY}`)
      .set('Accept', 'text/html');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    // Danish by default (the page in a browser: disclosure-page.test.ts).
    expect(html.text).toContain('Hvem har fået oplysninger om dig');
    expect(html.text).toContain('Et udskrivningsbrev');
    expect(
      (await t.http.get('/patients/0202902345/disclosures').set('Authorization', `Bearer ${PATIENT_KEY}`)).status,
    ).toBe(403);
    expect(
      (await t.http.get(`/patients/${PATIENT_CPR}/disclosures`).set('Authorization', `Bearer ${KEY.gp}`)).status,
    ).toBe(403);
    const fhir = await t.http
      .get(`/fhir/AuditEvent?patient=${SYSTEM.cpr}|${PATIENT_CPR}`)
      .set('Authorization', `Bearer ${KEY.admin}`);
    expect(fhir.body.resourceType).toBe('Bundle');
    expect(fhir.body.total).toBeGreaterThan(0);
  });

  it('delivers to a municipal recipient only with consent, and only the view the consent covers', async () => {
    const municipalSor = '521111000016003';
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:7a7a7a7a-0000-4000-8000-000000000001',
            resource: {
              resourceType: 'Organization',
              identifier: [{ system: SYSTEM.sor, value: municipalSor }],
              type: [{ coding: [{ system: SYSTEM.sector, code: 'municipality' }] }],
              name: 'Testby Kommune, Hjemmeplejen',
            },
            request: { method: 'POST', url: 'Organization' },
          },
          {
            resource: {
              resourceType: 'Endpoint',
              status: 'active',
              connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
              payloadType: [{ text: 'FHIR message' }],
              address: `${gp.url}/kommune`,
              managingOrganization: { reference: 'urn:uuid:7a7a7a7a-0000-4000-8000-000000000001' },
            },
            request: { method: 'POST', url: 'Endpoint' },
          },
        ],
      })
      .expect(200);
    const letter = { ...nativeLetter(), recipient: { sor: municipalSor } };
    const refused = await t.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`).send(letter);
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].details.coding[0].code).toBe('consent-missing');

    const permit = consent(
      'permit',
      { system: SYSTEM.sor, value: municipalSor },
      { purpose: [{ system: SYSTEM.actReason, code: 'TREAT' }], class: dataClasses('discharge-letter') },
    );
    expect((await postConsent(PATIENT_KEY, permit)).status).toBe(201);
    const res = await t.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`).send(letter);
    expect(res.status).toBe(202);
    const tracking = await eventually(async () => {
      const r = await t.http.get(`/messages/${res.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? r.body : undefined;
    });
    const delivered = gp.received.find((m) => m.messageHeaderId === tracking.messageHeaderId);
    expect(delivered?.path).toBe('/kommune/$process-message');
    const payload = JSON.stringify(delivered?.bundle);
    for (const term of [
      'F32.2',
      'DF322',
      'Depressiv',
      'Escitalopram',
      'escitalopram',
      'N06AB10',
      'Zopiclon',
      'selvmordstanker',
    ]) {
      expect(payload).not.toContain(term);
    }
    expect(payload).toContain('REDACTED');
    expect(payload).toContain('Samtale i distriktspsykiatrien');
  });
});
