import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { SYSTEM } from '../../src/mappers/systems';
import { GP_SOR, PATIENT_CPR, directoryBundle } from '../helpers/directory-fixture';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/** Loading and reading the directory, and finding a GP through an external FHIR registry. */
const nativeLetter = () =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/discharge-letter.native.json'), 'utf8')) as {
    patient: { cpr: string };
  };

describe('directory', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });
  const load = (bundle: unknown) =>
    t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(bundle));

  it('loads a transaction with references between entries, and finds the records again', async () => {
    const res = await load(directoryBundle('http://gp.test/fhir'));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry.every((e: { response: { status: string } }) => e.response.status === '201 Created')).toBe(
      true,
    );
    const found = await t.http
      .get(`/fhir/Patient?identifier=${SYSTEM.cpr}|${PATIENT_CPR}`)
      .set('Authorization', `Bearer ${KEY.admin}`);
    expect(found.body.total).toBe(1);
    const gp = await t.http.get(`/fhir/Organization?identifier=${GP_SOR}`).set('Authorization', `Bearer ${KEY.admin}`);
    const gpId = gp.body.entry[0].resource.id as string;
    expect(found.body.entry[0].resource.generalPractitioner[0].reference).toBe(`Organization/${gpId}`);
    const endpoints = await t.http
      .get(`/fhir/Endpoint?organization=Organization/${gpId}`)
      .set('Authorization', `Bearer ${KEY.admin}`);
    expect(endpoints.body.entry[0].resource.address).toBe('http://gp.test/fhir');
    const read = await t.http.get(`/fhir/Organization/${gpId}`).set('Authorization', `Bearer ${KEY.admin}`);
    expect(read.body.name).toBe('Lægerne i Testby');
  });

  it('updates by natural key instead of duplicating', async () => {
    const again = await load(directoryBundle('http://gp.test/fhir'));
    const statuses = again.body.entry.map((e: { response: { status: string } }) => e.response.status);
    // Organisations (by SOR, or by municipality code or CVR for the jobcentre and the employer) and patients (by CPR); endpoints without an identifier are new.
    expect(statuses.filter((s: string) => s === '200 OK')).toHaveLength(9);
    const jobcentres = await t.db.query("SELECT id FROM organizations WHERE resource->'identifier' @> $1::jsonb", [
      JSON.stringify([{ system: SYSTEM.municipality, value: '0101' }]),
    ]);
    expect(jobcentres).toHaveLength(1);
    const orgs = await t.http
      .get(`/fhir/Organization?identifier=${GP_SOR}`)
      .set('Authorization', `Bearer ${KEY.admin}`);
    expect(orgs.body.total).toBe(1);
  });

  it('rolls back a whole transaction when one entry is bad, naming the entry', async () => {
    const res = await load({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'Organization',
            identifier: [{ system: SYSTEM.sor, value: '111111111111111' }],
            name: 'Ny praksis',
          },
          request: { method: 'POST', url: 'Organization' },
        },
        {
          resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM.cpr, value: '12' }] },
          request: { method: 'POST', url: 'Patient' },
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/entry\[1\].*CPR/);
    const org = await t.http
      .get('/fhir/Organization?identifier=111111111111111')
      .set('Authorization', `Bearer ${KEY.admin}`);
    expect(org.body.total).toBe(0);
  });

  it('answers a batch entry by entry', async () => {
    const res = await load({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          resource: {
            resourceType: 'Organization',
            identifier: [{ system: SYSTEM.sor, value: '222222222222222' }],
            name: 'God',
          },
          request: { method: 'POST', url: 'Organization' },
        },
        { resource: { resourceType: 'Observation', status: 'final' }, request: { method: 'POST', url: 'Observation' } },
        {
          resource: {
            resourceType: 'Endpoint',
            status: 'active',
            connectionType: { code: 'hl7-fhir-msg' },
            address: 'not a url',
          },
          request: { method: 'POST', url: 'Endpoint' },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '201 Created',
      '400',
      '400',
    ]);
    expect(res.body.entry[1].response.outcome.issue[0].diagnostics).toMatch(/only Organization, Endpoint and Patient/);
  });

  it.each([
    ['a non-Bundle', { resourceType: 'Patient' }, /Bundle/],
    ['a searchset', { resourceType: 'Bundle', type: 'searchset' }, /batch" or "transaction/],
  ])('refuses %s', async (_name, body, text) => {
    const res = await load(body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(text);
  });

  it('refuses a Bundle whose envelope is not FHIR JSON (an empty entry array: fuzz finding), naming the element', async () => {
    for (const type of ['transaction', 'batch']) {
      const res = await load({ resourceType: 'Bundle', type, entry: [] });
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].expression).toEqual(['Bundle.entry']);
      expect(res.body.issue[0].diagnostics).toMatch(/empty array/);
    }
    const nothing = await load({ resourceType: 'Bundle', type: 'batch' });
    expect(nothing.status).toBe(200);
    expect(nothing.body).toEqual({ resourceType: 'Bundle', type: 'batch-response' });
  });

  it('is for admins only', async () => {
    expect((await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.hospital}`).send({})).status).toBe(403);
    expect((await t.http.get('/fhir/Patient').set('Authorization', `Bearer ${KEY.gp}`)).status).toBe(403);
  });
});

describe('external patient registry (REGISTRY_FHIR_URL)', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  const registry = 'http://registry.example.test/fhir';

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    gp = await startMessageReceiver();
    t = await startTestGateway({ env: { REGISTRY_FHIR_URL: registry } });
    // Only the organisations and endpoints: the patient is unknown locally.
    const bundle = directoryBundle(gp.url);
    bundle.entry = bundle.entry?.filter((e) => e.resource?.resourceType !== 'Patient');
    await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(bundle).expect(200);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('asks the registry for the GP of a patient the directory does not know, and delivers', async () => {
    const scope = nock('http://registry.example.test')
      .get('/fhir/Patient')
      .query({ identifier: `${SYSTEM.cpr}|${PATIENT_CPR}` })
      .matchHeader('accept', /application\/fhir\+json/)
      .reply(200, {
        resourceType: 'Bundle',
        type: 'searchset',
        entry: [{ resource: { resourceType: 'Patient', generalPractitioner: [{ reference: 'Organization/gp1' }] } }],
      })
      .get('/fhir/Organization/gp1')
      .reply(200, { resourceType: 'Organization', id: 'gp1', identifier: [{ system: SYSTEM.sor, value: GP_SOR }] });
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(202);
    expect(scope.isDone()).toBe(true);
    await eventually(async () => {
      const r = await t.http.get(`/messages/${res.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? true : undefined;
    });
  });

  it('answers 422 when the registry does not know the patient either', async () => {
    nock('http://registry.example.test')
      .get('/fhir/Patient')
      .query(true)
      .reply(200, { resourceType: 'Bundle', type: 'searchset', entry: [] });
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(422);
    expect(res.body.issue[0].details.coding[0].code).toBe('unknown-patient');
  });

  it('answers 503 when the registry is down, and stores nothing', async () => {
    nock('http://registry.example.test').get('/fhir/Patient').query(true).reply(502);
    const before = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(503);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const after = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
