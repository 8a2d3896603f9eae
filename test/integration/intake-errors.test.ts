import type { Response } from 'supertest';
import type { NativeDischargeLetter } from '../../src/mappers/native-types';
import {
  NO_ENDPOINT_GP_SOR,
  PATIENT_OF_GP_WITHOUT_ENDPOINT_CPR,
  PATIENT_WITHOUT_GP_CPR,
} from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/** Every error is an OperationOutcome naming the field and the problem, and nothing half-stored remains. */

describe('intake errors and authorisation', () => {
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ t, close } = await startGatewayWithGp({ env: { MAX_BODY_BYTES: '200000' } }));
  });

  afterAll(async () => {
    await close();
  });

  const post = (body: unknown, key = KEY.hospital, type = 'application/json') =>
    t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', type)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  const expectOutcome = (res: Response, status: number, text: RegExp) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const all = (res.body.issue as Array<{ diagnostics?: string; expression?: string[] }>)
      .map((i) => `${i.diagnostics ?? ''} ${(i.expression ?? []).join(',')}`)
      .join(' | ');
    expect(all).toMatch(text);
  };

  it.each([
    ['no Authorization header', undefined, 401, /Authorization/],
    ['an unknown API key', 'not-a-real-key-at-all', 401, /API key/],
    ['a GP key on a hospital route', KEY.gp, 403, /role 'gp'/],
    ['a jobcentre key on a hospital route', KEY.jobcentre, 403, /role 'jobcentre'/],
  ])('refuses %s', async (_name, key, status, text) => {
    const req = t.http.post('/discharge-letters').set('Content-Type', 'application/json');
    if (key) {
      req.set('Authorization', `Bearer ${key}`);
    }
    expectOutcome(await req.send(JSON.stringify(nativeLetter())), status, text);
  });

  it('answers malformed JSON with 400', async () => {
    expectOutcome(await post('{"patient": {"cpr": '), 400, /malformed JSON/);
  });

  it('names the field of a schema error', async () => {
    const letter = nativeLetter();
    letter.patient.cpr = '12345';
    expectOutcome(await post(letter), 400, /patient\.cpr/);
  });

  it('names a missing required field', async () => {
    const letter = nativeLetter();
    delete (letter as Partial<NativeDischargeLetter>).author;
    expectOutcome(await post(letter), 400, /author/);
  });

  it('answers an unknown patient with 422', async () => {
    const letter = nativeLetter();
    letter.patient.cpr = '3112999999';
    expectOutcome(await post(letter), 422, /not known to the directory/);
  });

  it('answers a patient without a listed GP with 422', async () => {
    const letter = nativeLetter();
    letter.patient.cpr = PATIENT_WITHOUT_GP_CPR;
    expectOutcome(await post(letter), 422, /no listed GP/);
  });

  it('answers a GP without an endpoint with 422', async () => {
    const letter = nativeLetter();
    letter.patient.cpr = PATIENT_OF_GP_WITHOUT_ENDPOINT_CPR;
    expectOutcome(await post(letter), 422, new RegExp(`${NO_ENDPOINT_GP_SOR}.*no active FHIR endpoint`));
  });

  it('answers an unknown named recipient with 422', async () => {
    const letter = nativeLetter();
    letter.recipient = { sor: '999999999999999' };
    expectOutcome(await post(letter), 422, /recipient\.sor.*999999999999999/);
  });

  it('answers a body over the size limit with 413', async () => {
    const letter = nativeLetter();
    letter.course = 'x'.repeat(300000);
    expectOutcome(await post(letter), 413, /limit/);
  });

  it('answers an unsupported content type with 415', async () => {
    expectOutcome(await post('hello', KEY.hospital, 'text/csv'), 415, /Content-Type/);
  });

  it('answers a FHIR Bundle that is not a discharge summary with 400', async () => {
    // No `entry: []`: FHIR JSON has no empty arrays, and that would be the 400's first reason.
    const bundle = { resourceType: 'Bundle', type: 'collection' };
    expectOutcome(await post(bundle, KEY.hospital, 'application/fhir+json'), 400, /document/);
  });

  it('answers an unknown route with a 404 OperationOutcome', async () => {
    expectOutcome(await t.http.get('/no-such-route').set('Authorization', `Bearer ${KEY.admin}`), 404, /no route/);
  });

  it('stores nothing for any refused request', async () => {
    const rows = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const deliveries = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    expect(rows[0]?.n).toBe(0);
    expect(deliveries[0]?.n).toBe(0);
  });

  it("hides another client's message behind a 404 and lets the admin read it", async () => {
    const accepted = await post(nativeLetter());
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    // Neither sender nor recipient (the GP, its recipient, sees it: test/security/traffic-isolation.test.ts).
    expectOutcome(
      await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.jobcentre}`),
      404,
      /not found/,
    );
    const admin = await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.admin}`);
    expect(admin.status).toBe(200);
    expect(admin.body.id).toBe(id);
    const list = await t.http.get('/messages?limit=5').set('Authorization', `Bearer ${KEY.admin}`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((m: { id: string }) => m.id)).toContain(id);
    expectOutcome(
      await t.http.get('/messages?status=bogus').set('Authorization', `Bearer ${KEY.admin}`),
      400,
      /status/,
    );
    expectOutcome(await t.http.get('/messages').set('Authorization', `Bearer ${KEY.hospital}`), 400, /side/);
  });
});
