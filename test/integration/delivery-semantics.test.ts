import { randomUUID } from 'node:crypto';
import type { Bundle, MessageHeader } from 'fhir/r4';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { buildAcknowledgement } from '../../src/mappers/message/acknowledgement';
import { directoryBundle } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, eventually, startGatewayWithGp, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Delivery semantics against a real loopback receiver: retries with backoff on transient failures,
 * immediate failure on permanent ones, dead letters after the last attempt, acknowledgements deciding
 * the outcome, and one delivery per Idempotency-Key.
 */

describe('delivery semantics', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  const send = async (headers: Record<string, string> = {}, body: unknown = nativeLetter()) => {
    const req = t.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`);
    for (const [k, v] of Object.entries(headers)) {
      req.set(k, v);
    }
    return req.send(body as object);
  };
  const settled = (id: string) =>
    eventually(async () => {
      const r = await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return ['delivered', 'failed', 'dead'].includes(r.body.status as string) ? r.body : undefined;
    });

  it('retries a 503 and a network-level failure, then delivers with the same MessageHeader.id', async () => {
    gp.behaviour = (_m, attempt) => (attempt === 1 ? { kind: 'status', status: 503 } : { kind: 'ack', code: 'ok' });
    const res = await send();
    const tracking = await settled(res.body.id as string);
    expect(tracking.status).toBe('delivered');
    expect(tracking.deliveries[0].attempts).toBe(2);
    const copies = gp.received.filter((m) => m.messageHeaderId === tracking.messageHeaderId);
    expect(copies).toHaveLength(2);
    expect(copies[0]!.bundle.id).toBe(copies[1]!.bundle.id);
  });

  it("fails at once on a 4xx other than 408/429 and keeps the recipient's reason", async () => {
    gp.behaviour = {
      kind: 'status',
      status: 422,
      body: {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'invalid', diagnostics: 'unknown patient in this practice' }],
      },
    };
    const tracking = await settled((await send()).body.id as string);
    expect(tracking.status).toBe('failed');
    expect(tracking.deliveries[0].attempts).toBe(1);
    expect(tracking.deliveries[0].lastError).toContain('unknown patient in this practice');
  });

  it('treats 429 as transient', async () => {
    gp.behaviour = (_m, attempt) => (attempt < 3 ? { kind: 'status', status: 429 } : { kind: 'ack', code: 'ok' });
    const tracking = await settled((await send()).body.id as string);
    expect(tracking.status).toBe('delivered');
    expect(tracking.deliveries[0].attempts).toBe(3);
  });

  it('makes a dead letter after the last attempt, with the reason', async () => {
    gp.behaviour = { kind: 'status', status: 500 };
    const tracking = await settled((await send()).body.id as string);
    expect(tracking.status).toBe('dead');
    expect(tracking.deliveries[0].attempts).toBe(3);
    expect(tracking.deliveries[0].lastError).toMatch(/HTTP 500.*gave up after 3 attempts/);
    const audit = await t.db.query<{ action: string }>('SELECT action FROM audit_events WHERE message_id = $1', [
      tracking.id,
    ]);
    expect(audit.map((a) => a.action)).toEqual(['dead-letter']);
  });

  it('lets a fatal-error acknowledgement fail the delivery and a transient-error one retry it', async () => {
    gp.behaviour = { kind: 'ack', code: 'fatal-error' };
    const fatal = await settled((await send()).body.id as string);
    expect(fatal.status).toBe('failed');
    expect(fatal.deliveries[0].lastError).toMatch(/fatal-error/);

    gp.behaviour = (_m, attempt) =>
      attempt === 1 ? { kind: 'ack', code: 'transient-error' } : { kind: 'ack', code: 'ok' };
    const transient = await settled((await send()).body.id as string);
    expect(transient.status).toBe('delivered');
    expect(transient.deliveries[0].attempts).toBe(2);
  });

  it('takes a later acknowledgement posted back by the GP system', async () => {
    gp.behaviour = { kind: 'empty', status: 202 };
    const res = await send();
    const tracking = await settled(res.body.id as string);
    expect(tracking.status).toBe('delivered');
    const message = gp.received.find((m) => m.messageHeaderId === tracking.messageHeaderId)!;
    const ack = buildAcknowledgement(
      message.bundle,
      'fatal-error',
      // Distinct fullUrls (bdl-7): acknowledgements are validated as R4 Bundles.
      { now: new Date(), newId: randomUUID, gatewayEndpoint: gp.url },
      'patient not listed here',
    );

    const stranger = await t.http
      .post('/fhir/$process-message')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(ack);
    expect(stranger.status).toBe(403);

    const posted = await t.http
      .post('/fhir/$process-message')
      .set('Authorization', `Bearer ${KEY.gp}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(ack));
    expect(posted.status).toBe(200);
    expect(posted.body.resourceType).toBe('OperationOutcome');
    const after = await t.http.get(`/messages/${res.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
    expect(after.body.status).toBe('failed');
    expect(after.body.deliveries[0].lastError).toContain('patient not listed here');

    const notAck = await t.http
      .post('/fhir/$process-message')
      .set('Authorization', `Bearer ${KEY.gp}`)
      .send({ resourceType: 'Bundle', type: 'message', entry: [] });
    expect(notAck.status).toBe(400);
  });

  it('delivers once per Idempotency-Key and refuses the key with another body', async () => {
    gp.behaviour = { kind: 'ack', code: 'ok' };
    const key = `letter-${Date.now()}`;
    const first = await send({ 'Idempotency-Key': key });
    const second = await send({ 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const tracking = await settled(first.body.id as string);
    const count = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE idempotency_key = $1',
      [key],
    );
    expect(count[0]?.n).toBe(1);
    expect(gp.received.filter((m) => m.messageHeaderId === tracking.messageHeaderId)).toHaveLength(1);

    const other = nativeLetter();
    other.course = 'A different course of stay.';
    const conflict = await send({ 'Idempotency-Key': key }, other);
    expect(conflict.status).toBe(409);
    expect(conflict.body.resourceType).toBe('OperationOutcome');
  });
});

// A loopback server, not nock: deliveries go through the gateway's outbound undici dispatcher (one keep-alive
// pool per endpoint), which nock 14 does not intercept.
describe('delivery to a FHIR REST endpoint', () => {
  let t: TestGateway;
  let server: Server;
  const requests: Array<{ method: string; url: string; contentType: string; body: string }> = [];
  let answers: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          body,
        });
        const status = answers.shift() ?? 201;
        res.writeHead(status, { 'content-type': 'application/fhir+json' });
        res.end(status === 201 ? body : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
    t = await startTestGateway();
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle(address, { connectionType: 'hl7-fhir-rest' }))
      .expect(200);
  });

  afterAll(async () => {
    await t.close();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  it('PUTs the message Bundle by its id, so a retry overwrites instead of duplicating', async () => {
    answers = [500, 201];
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(202);
    const tracking = await eventually(async () => {
      const r = await t.http.get(`/messages/${res.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? r.body : undefined;
    });
    expect(tracking.deliveries[0].attempts).toBe(2);
    expect(requests).toHaveLength(2);
    for (const r of requests) {
      expect(r.method).toBe('PUT');
      expect(r.url).toMatch(/^\/fhir\/Bundle\/[0-9a-f-]+$/);
      expect(r.contentType).toMatch(/application\/fhir\+json/);
    }
    expect(requests[1]!.url).toBe(requests[0]!.url);
    const bundle = JSON.parse(requests[1]!.body) as Bundle;
    expect(requests[1]!.url).toBe(`/fhir/Bundle/${bundle.id ?? ''}`);
    expect((bundle.entry?.[0]?.resource as MessageHeader).id).toBe(tracking.messageHeaderId);
  });
});
