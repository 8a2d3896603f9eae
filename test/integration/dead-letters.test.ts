import type { AuditEvent } from 'fhir/r4';
import { type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, eventually, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * Dead-letter operations against a real gateway (Redis, database, outbox relay, workers) and a real
 * loopback receiver: a receiver answering 500 makes dead letters (3 attempts, 20 ms backoff); an admin
 * lists, inspects, replays (once the receiver is back) and discards them, each with an AuditEvent.
 */
describe('dead letters', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  const admin = { Authorization: `Bearer ${KEY.admin}` };

  const tracking = async (messageId: string) => (await t.http.get(`/messages/${messageId}`).set(admin)).body;
  const settled = (messageId: string, statuses = ['delivered', 'failed', 'dead']) =>
    eventually(
      async () => {
        const body = await tracking(messageId);
        return statuses.includes(body.status as string) ? body : undefined;
      },
      15000,
      `message ${messageId} in ${statuses.join('/')}`,
    );

  /** Sends a letter while the receiver answers 500, and waits until it is a dead letter. */
  const deadLetter = async (): Promise<{ messageId: string; deliveryId: string; messageHeaderId: string }> => {
    gp.behaviour = { kind: 'status', status: 500 };
    const sent = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(sent.status).toBe(202);
    const dead = await settled(sent.body.id as string, ['dead']);
    return { messageId: dead.id, deliveryId: dead.deliveries[0].id, messageHeaderId: dead.messageHeaderId };
  };

  const auditActions = async (messageId: string) =>
    await t.db.query<{ action: string; resource: AuditEvent; patient_cpr: string | null }>(
      'SELECT action, resource, patient_cpr FROM audit_events WHERE message_id = $1 ORDER BY recorded, action',
      [messageId],
    );

  const copiesOf = (messageHeaderId: string) => gp.received.filter((m) => m.messageHeaderId === messageHeaderId);

  it('lists, inspects and replays a dead letter after the receiver recovers: delivered exactly once, audited', async () => {
    const { messageId, deliveryId, messageHeaderId } = await deadLetter();
    expect(copiesOf(messageHeaderId)).toHaveLength(3);

    const list = await t.http.get('/dead-letters').set(admin);
    expect(list.status).toBe(200);
    const item = list.body.items.find((i: { id: string }) => i.id === deliveryId);
    expect(item).toMatchObject({
      id: deliveryId,
      messageId,
      kind: 'discharge-letter',
      status: 'dead',
      attempts: 3,
      recipient: { sor: expect.any(String) },
      endpoint: gp.url,
      discarded: false,
    });
    expect(item.reason).toMatch(/HTTP 500.*gave up after 3 attempts/);
    expect(typeof item.failedAt).toBe('string');
    expect(typeof item.messageCreatedAt).toBe('string');

    const byKind = await t.http.get('/dead-letters').query({ kind: 'clinical-document' }).set(admin);
    expect(byKind.body.items.map((i: { id: string }) => i.id)).not.toContain(deliveryId);

    const detail = await t.http.get(`/dead-letters/${deliveryId}`).set(admin);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: deliveryId,
      messageId,
      messageHeaderId,
      status: 'dead',
      replayable: true,
      sender: { clientId: 'demo-hospital' },
    });
    expect(detail.body.bundle.type).toBe('message');
    expect(detail.body.bundle.entryCount).toBeGreaterThan(1);
    expect(detail.body.bundle.resourceTypes).toEqual(
      expect.arrayContaining(['MessageHeader', 'Composition', 'Patient']),
    );
    // An operations view: no clinical text, no CPR number.
    const text = JSON.stringify(detail.body);
    expect(text).not.toContain('0101901234');
    expect(text).not.toContain('Escitalopram');
    expect(text).not.toContain(nativeLetter().course);

    gp.behaviour = { kind: 'ack', code: 'ok' };
    const replay = await t.http
      .post(`/dead-letters/${deliveryId}/$replay`)
      .set(admin)
      .send({ reason: 'GP system is back after the outage' });
    expect(replay.status).toBe(202);
    expect(replay.headers.location).toBe(`/messages/${messageId}`);
    expect(replay.body).toMatchObject({ id: deliveryId, messageId, status: 'pending', attempts: 0 });
    expect(replay.body.lastError).toBe('replayed by demo-admin: GP system is back after the outage');

    const delivered = await settled(messageId, ['delivered']);
    expect(delivered.deliveries[0].attempts).toBe(1);
    expect(gp.unique.get(messageHeaderId)?.messageHeaderId).toBe(messageHeaderId);
    // Give a stray duplicate job the chance to show itself: there must be none.
    await new Promise((r) => setTimeout(r, 500));
    expect(copiesOf(messageHeaderId)).toHaveLength(4);
    expect(copiesOf(messageHeaderId).every((c) => c.bundle.id === copiesOf(messageHeaderId)[0]!.bundle.id)).toBe(true);

    const audit = await auditActions(messageId);
    expect(audit.map((a) => a.action)).toEqual(['dead-letter', 'replayed', 'delivered']);
    const replayed = audit[1]!;
    expect(replayed.resource.subtype?.[0]?.code).toBe('replayed');
    expect(replayed.resource.outcomeDesc).toBe('by demo-admin: GP system is back after the outage');
    expect(replayed.patient_cpr).toBeNull();
    // The operator is an agent of their own, and the one who asked for it.
    const operator = replayed.resource.agent.find((a) => a.requestor);
    expect(operator?.who?.identifier?.value).toBe('demo-admin');
    expect(operator?.type?.coding?.[0]?.code).toBe('humanuser');

    const after = await t.http.get('/dead-letters').set(admin);
    expect(after.body.items.map((i: { id: string }) => i.id)).not.toContain(deliveryId);
    expect((await t.http.get(`/dead-letters/${deliveryId}`).set(admin)).status).toBe(404);

    const again = await t.http.post(`/dead-letters/${deliveryId}/$replay`).set(admin).send({ reason: 'once more' });
    expect(again.status).toBe(409);
    expect(again.body.resourceType).toBe('OperationOutcome');
    expect(again.body.issue[0].diagnostics).toMatch(/is delivered; only a dead or failed delivery can be replayed/);
  });

  it('discards a dead letter: failed with the note, audited, no longer listed or replayable', async () => {
    const { messageId, deliveryId, messageHeaderId } = await deadLetter();
    const discarded = await t.http
      .post(`/dead-letters/${deliveryId}/$discard`)
      .set(admin)
      .send({ reason: 'patient moved; sent on paper' });
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({
      id: deliveryId,
      status: 'failed',
      discarded: true,
      replayable: false,
      reason: 'discarded by demo-admin: patient moved; sent on paper',
    });
    expect((await tracking(messageId)).status).toBe('failed');

    const audit = await auditActions(messageId);
    expect(audit.map((a) => a.action)).toEqual(['dead-letter', 'discarded']);
    expect(audit[1]!.resource.outcomeDesc).toBe('by demo-admin: patient moved; sent on paper');

    const list = await t.http.get('/dead-letters').set(admin);
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(deliveryId);
    expect((await t.http.get(`/dead-letters/${deliveryId}`).set(admin)).body.discarded).toBe(true);

    gp.behaviour = { kind: 'ack', code: 'ok' };
    const replay = await t.http
      .post(`/dead-letters/${deliveryId}/$replay`)
      .set(admin)
      .send({ reason: 'changed my mind' });
    expect(replay.status).toBe(409);
    expect(replay.body.issue[0].diagnostics).toMatch(/was discarded/);
    expect(
      (await t.http.post(`/dead-letters/${deliveryId}/$discard`).set(admin).send({ reason: 'twice' })).status,
    ).toBe(409);
    await new Promise((r) => setTimeout(r, 300));
    expect(copiesOf(messageHeaderId)).toHaveLength(3);
    expect(await auditActions(messageId)).toHaveLength(2);
  });

  it('pages the list newest first with a cursor', async () => {
    const older = await deadLetter();
    const newer = await deadLetter();
    const first = await t.http.get('/dead-letters').query({ limit: 1 }).set(admin);
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: { id: string }) => i.id)).toEqual([newer.deliveryId]);
    expect(typeof first.body.next).toBe('string');
    const second = await t.http.get('/dead-letters').query({ limit: 1, before: first.body.next }).set(admin);
    expect(second.body.items.map((i: { id: string }) => i.id)).toEqual([older.deliveryId]);

    const bad = await t.http.get('/dead-letters').query({ before: 'yesterday' }).set(admin);
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(['before']);
    expect((await t.http.get('/dead-letters').query({ limit: 0 }).set(admin)).body.issue[0].expression).toEqual([
      'limit',
    ]);

    // Leave nothing behind for the bulk tests.
    for (const d of [older, newer]) {
      expect(
        (await t.http.post(`/dead-letters/${d.deliveryId}/$discard`).set(admin).send({ reason: 'test cleanup' }))
          .status,
      ).toBe(200);
    }
  });

  it('replays listed dead letters in bulk and says which it skipped and why', async () => {
    const a = await deadLetter();
    const b = await deadLetter();
    gp.behaviour = { kind: 'ack', code: 'ok' };
    const okSent = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    const ok = await settled(okSent.body.id as string, ['delivered']);
    const unknown = '00000000-0000-4000-8000-000000000000';

    const res = await t.http
      .post('/dead-letters/$replay')
      .set(admin)
      .send({
        deliveryIds: [a.deliveryId, b.deliveryId, unknown, ok.deliveries[0].id, a.deliveryId],
        reason: 'receiver recovered',
      });
    expect(res.status).toBe(202);
    expect(res.body.replayed).toBe(2);
    expect(res.body.skipped).toEqual([
      { id: unknown, why: 'not-found' },
      { id: ok.deliveries[0].id, why: 'not-a-dead-letter', status: 'delivered' },
    ]);
    for (const d of [a, b]) {
      await settled(d.messageId, ['delivered']);
      expect(gp.unique.has(d.messageHeaderId)).toBe(true);
      expect((await auditActions(d.messageId)).map((x) => x.action)).toEqual(['dead-letter', 'replayed', 'delivered']);
    }
  });

  it('replays all dead letters of a kind', async () => {
    const a = await deadLetter();
    const b = await deadLetter();
    gp.behaviour = { kind: 'ack', code: 'ok' };
    const none = await t.http
      .post('/dead-letters/$replay')
      .set(admin)
      .send({ all: true, kind: 'clinical-document', reason: 'only notes' });
    expect(none.status).toBe(202);
    expect(none.body).toEqual({ replayed: 0, skipped: [] });

    const res = await t.http
      .post('/dead-letters/$replay')
      .set(admin)
      .send({ all: true, kind: 'discharge-letter', reason: 'outage over' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ replayed: 2, skipped: [] });
    for (const d of [a, b]) {
      const delivered = await settled(d.messageId, ['delivered']);
      expect(delivered.deliveries[0].attempts).toBe(1);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const d of [a, b]) {
      expect(copiesOf(d.messageHeaderId)).toHaveLength(4);
    }
    expect((await t.http.get('/dead-letters').set(admin)).body.items).toEqual([]);
  });

  it('is for admins only', async () => {
    const gpKey = { Authorization: `Bearer ${KEY.gp}` };
    const id = '00000000-0000-4000-8000-000000000000';
    for (const res of [
      await t.http.get('/dead-letters').set(gpKey),
      await t.http.get(`/dead-letters/${id}`).set(gpKey),
      await t.http.post(`/dead-letters/${id}/$replay`).set(gpKey).send({ reason: 'x' }),
      await t.http.post(`/dead-letters/${id}/$discard`).set(gpKey).send({ reason: 'x' }),
      await t.http.post('/dead-letters/$replay').set(gpKey).send({ all: true, reason: 'x' }),
      await t.http
        .post('/dead-letters/$replay')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send({ all: true, reason: 'x' }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await t.http.get('/dead-letters')).status).toBe(401);
  });

  it('answers bad requests with an OperationOutcome naming the field', async () => {
    const { deliveryId, messageId } = await deadLetter();
    const expectField = async (
      req: Promise<{ status: number; body: { resourceType: string; issue: Array<{ expression?: string[] }> } }>,
      status: number,
      field: string,
    ) => {
      const res = await req;
      expect(res.status).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0]?.expression).toEqual([field]);
    };
    await expectField(t.http.post(`/dead-letters/${deliveryId}/$replay`).set(admin).send({}), 400, 'reason');
    await expectField(t.http.post(`/dead-letters/${deliveryId}/$replay`).set(admin), 400, 'reason');
    await expectField(
      t.http.post(`/dead-letters/${deliveryId}/$replay`).set(admin).send({ reason: '   ' }),
      400,
      'reason',
    );
    await expectField(
      t.http
        .post(`/dead-letters/${deliveryId}/$replay`)
        .set(admin)
        .send({ reason: 'x'.repeat(501) }),
      400,
      'reason',
    );
    await expectField(
      t.http.post(`/dead-letters/${deliveryId}/$replay`).set(admin).send({ reason: 'ok', force: true }),
      400,
      'force',
    );
    await expectField(
      t.http.post(`/dead-letters/${deliveryId}/$discard`).set(admin).send({ reason: 42 }),
      400,
      'reason',
    );
    await expectField(
      t.http
        .post('/dead-letters/$replay')
        .set(admin)
        .send({ deliveryIds: [deliveryId] }),
      400,
      'reason',
    );
    await expectField(t.http.post('/dead-letters/$replay').set(admin).send({ reason: 'x' }), 400, 'deliveryIds');
    await expectField(
      t.http.post('/dead-letters/$replay').set(admin).send({ deliveryIds: [], reason: 'x' }),
      400,
      'deliveryIds',
    );
    await expectField(
      t.http
        .post('/dead-letters/$replay')
        .set(admin)
        .send({ deliveryIds: [deliveryId, 'nope'], reason: 'x' }),
      400,
      'deliveryIds[1]',
    );
    await expectField(
      t.http
        .post('/dead-letters/$replay')
        .set(admin)
        .send({ deliveryIds: Array.from({ length: 501 }, () => deliveryId), reason: 'x' }),
      400,
      'deliveryIds',
    );
    await expectField(
      t.http
        .post('/dead-letters/$replay')
        .set(admin)
        .send({ all: true, deliveryIds: [deliveryId], reason: 'x' }),
      400,
      'all',
    );
    await expectField(t.http.post('/dead-letters/$replay').set(admin).send({ all: 'yes', reason: 'x' }), 400, 'all');
    await expectField(
      t.http
        .post('/dead-letters/$replay')
        .set(admin)
        .send({ deliveryIds: [deliveryId], kind: 'discharge-letter', reason: 'x' }),
      400,
      'kind',
    );

    const unknown = await t.http
      .post('/dead-letters/00000000-0000-4000-8000-000000000000/$replay')
      .set(admin)
      .send({ reason: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
    expect((await t.http.get('/dead-letters/not-a-uuid').set(admin)).status).toBe(404);
    expect(
      (
        await t.http
          .post('/dead-letters/00000000-0000-4000-8000-000000000000/$discard')
          .set(admin)
          .send({ reason: 'x' })
      ).status,
    ).toBe(404);

    // None of the refusals changed anything or wrote an audit event.
    expect((await tracking(messageId)).status).toBe('dead');
    expect((await auditActions(messageId)).map((a) => a.action)).toEqual(['dead-letter']);
  });
});
