import type { Bundle, MessageHeader } from 'fhir/r4';
import { type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { openApiDocument, requestExamples } from '../../src/validation/request-schemas';
import { KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * The contract stays true: every request example in openapi.yaml is accepted by the running gateway with a
 * 2xx, sent by a client of the first role the operation lists in x-roles.
 */
type Role = keyof typeof KEY;
const roleOf = (path: string, method: string): Role => {
  const op = (openApiDocument().paths[path])?.[method.toLowerCase()];
  const role = op?.['x-roles']?.[0] ?? 'admin';
  return (role in KEY ? role : 'admin') as Role;
};

describe('openapi.yaml request examples', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  const examples = requestExamples();

  it('has examples for every operation that takes a body', () => {
    const withBody = Object.entries(openApiDocument().paths).flatMap(([path, ops]) =>
      Object.entries(ops).filter(([, op]) => op.requestBody).map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const covered = new Set(examples.map((e) => `${e.method} ${e.path}`));
    expect(withBody.filter((op) => !covered.has(op))).toEqual([]);
  });

  it.each(examples.map((e) => [`${e.method} ${e.path} ${e.contentType} ${e.name}`, e] as const))('accepts %s', async (_label, example) => {
    let path = example.path;
    let body = example.value;
    if (path === '/fhir/Consent/{id}') {
      const created = await t.http.post('/fhir/Consent').set('Authorization', `Bearer ${KEY.jobcentre}`).set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
      expect(created.status).toBe(201);
      path = `/fhir/Consent/${created.body.id as string}`;
    }
    if (path === '/fhir/$process-message') {
      // An acknowledgement must name a message this gateway sent to the acknowledging organisation.
      const before = gp.unique.size;
      const sent = await t.http.post('/send-to-own-gp').set('Authorization', `Bearer ${KEY.hospital}`).send({ patient: { cpr: '0101901234' }, title: 't', text: 'x', author: { name: 'a', organization: { sor: '265161000016004' } } });
      expect(sent.status).toBe(202);
      await gp.waitFor(before + 1);
      const header = [...gp.unique.values()].at(-1)?.bundle.entry?.[0]?.resource as MessageHeader;
      const ack = structuredClone(body) as Bundle;
      (ack.entry?.[0]?.resource as MessageHeader).response = { identifier: header.id ?? '', code: 'fatal-error' };
      body = ack;
    }
    const role = path.startsWith('/fhir/$process-message') ? 'gp' : roleOf(example.path, example.method);
    const send = example.method === 'PUT' ? t.http.put(path) : t.http.post(path);
    const res = await send
      .set('Authorization', `Bearer ${KEY[role]}`)
      .set('Content-Type', example.contentType)
      .send(typeof body === 'string' ? body : JSON.stringify(body));
    if (res.status >= 300) {
      throw new Error(`${res.status}: ${JSON.stringify(res.body)}`);
    }
    expect(res.status).toBeLessThan(300);
  });
});
