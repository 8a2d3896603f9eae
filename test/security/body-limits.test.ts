import { createServer, type Server } from 'node:http';
import { requestExamples } from '../../src/validation/request-schemas';
import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';
import { close, listen, send } from './http-client';

/**
 * Issue 12, "No limits": any role could send 25 MiB anywhere, and a 9 MB FHIR document to `$convert` held the
 * event loop (and /health/live) for seconds while it was validated. Now each route takes what it needs, and a
 * JSON body's number of values is bounded before any validation.
 */
type Entry = { fullUrl: string; resource: { resourceType: string; id?: string } };
const fhirLetter = requestExamples().find(
  (e) => e.path === '/discharge-letters' && e.contentType === 'application/fhir+json',
)!.value as { entry: Entry[] };

/** The FHIR discharge letter with copies of its diagnosis (Condition) until the body has about `bytes` bytes. */
function letterOfSize(bytes: number): string {
  const condition = fhirLetter.entry.find((e) => e.resource.resourceType === 'Condition')!;
  const size = JSON.stringify(condition).length;
  const copies: Entry[] = [];
  for (let i = 0; i < bytes / size; i += 1) {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    copies.push({ fullUrl: `urn:uuid:${id}`, resource: { ...condition.resource, id } });
  }
  return JSON.stringify({ ...fhirLetter, entry: [...fhirLetter.entry, ...copies] });
}

const reasonOf = (body: string) =>
  (JSON.parse(body) as { issue: Array<{ details?: { coding?: Array<{ code: string }> } }> }).issue[0]?.details
    ?.coding?.[0]?.code;

describe('body limits per route', () => {
  let t: TestGateway;
  let server: Server;
  beforeAll(async () => {
    t = await startTestGateway({ env: { RUN_WORKERS: 'false' } });
    server = await listen(createServer(t.gateway.app));
  });
  afterAll(async () => {
    await close(server);
    await t.close();
  });

  const post = (path: string, body: string, key = KEY.hospital, type = 'application/fhir+json') =>
    send(server, { method: 'POST', path, body, headers: { authorization: `Bearer ${key}`, 'content-type': type } });

  it('sizes each route: documents take more than $convert, small JSON routes little', async () => {
    // 3 MB of padding in a native letter's attachment: a document may carry it, a dry run may not.
    const padded = JSON.stringify({
      patient: { cpr: '0101901234' },
      title: 't',
      text: 'x',
      author: { name: 'a', organization: { sor: '265161000016004' } },
      attachments: [{ contentType: 'application/pdf', data: Buffer.alloc(3 * 1024 * 1024, 1).toString('base64') }],
    });
    const converted = await post('/$convert', padded, KEY.hospital, 'application/json');
    expect(converted.status).toBe(413);
    expect(reasonOf(converted.body)).toBe('too-large');
    expect(converted.body).toContain(String(2 * 1024 * 1024));
    expect((await post('/send-to-own-gp', padded, KEY.hospital, 'application/json')).status).not.toBe(413);
    const consent = await post('/fhir/Consent', JSON.stringify({ resourceType: 'Consent', x: 'y'.repeat(300 * 1024) }));
    expect(consent.status).toBe(413);
  });

  it('refuses a 9 MB document of 20,000 resources before validating it, and /health/live answers meanwhile', async () => {
    const big = letterOfSize(9 * 1024 * 1024);
    const [document, converted] = [post('/discharge-letters', big), post('/$convert', big)];
    const live = await send(server, { path: '/health/live' });
    expect(live.status).toBe(200);
    const refused = await document;
    expect(refused.status).toBe(413);
    expect(reasonOf(refused.body)).toBe('too-many-values');
    expect((await converted).status).toBe(413);
    // A document of ordinary size still goes through.
    expect((await post('/$convert', JSON.stringify(fhirLetter))).status).toBe(200);
  });
});
