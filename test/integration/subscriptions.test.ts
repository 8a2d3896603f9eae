import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent, Basic, Bundle, CapabilityStatement, Parameters, Subscription } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver, type ReceivedMessage } from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { loadConfig } from '../../src/config';
import { BACKPORT } from '../../src/mappers/subscription/backport';
import { CANONICAL_BASE, SYSTEM } from '../../src/mappers/systems';
import { TOPICS } from '../../src/subscriptions/topics';
import { getDefaultValidator } from '../../src/validation';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  OTHER_GP_SOR,
  PATIENT_CPR,
  directoryBundle,
} from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * GP subscriptions end to end with a real loopback rest-hook: handshake, notifications in order, gap detection
 * and catch-up with $status/$events after the receiver was down, authorisation to listed patients only, events
 * that stop when a patient moves, consent limiting full-resource payloads, foci the subscriber may read (its
 * own delivery, or the listed practice's copy), https-only rest-hooks, topics as R4 Basic, and Subscription.end.
 */
const [DOCUMENTS, ENCOUNTERS, STATUS_REPORTS] = TOPICS.map((t) => t.url) as [string, string, string];

interface Notification {
  type: string;
  eventsSinceStart: number;
  events: Array<{ number: number; focus?: string }>;
  subscription: string;
  status: string;
  bundle: Bundle;
}

function read(m: ReceivedMessage): Notification {
  const status = m.bundle.entry?.[0]?.resource as Parameters;
  const value = (name: string) => status.parameter?.find((p) => p.name === name);
  return {
    type: value('type')?.valueCode ?? '',
    status: value('status')?.valueCode ?? '',
    subscription: value('subscription')?.valueReference?.reference ?? '',
    eventsSinceStart: Number(value('events-since-subscription-start')?.valueString),
    events: (status.parameter ?? [])
      .filter((p) => p.name === 'notification-event')
      .map((p) => ({
        number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString),
        focus: p.part?.find((x) => x.name === 'focus')?.valueReference?.reference,
      })),
    bundle: m.bundle,
  };
}

function subscription(
  topic: string,
  endpoint: string,
  options: { filter?: string; content?: string; heartbeat?: number } = {},
): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Opdateringer om mine patienter',
    criteria: topic,
    ...(options.filter
      ? { _criteria: { extension: [{ url: BACKPORT.filterCriteria, valueString: options.filter }] } }
      : {}),
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: BACKPORT.payloadContent, valueCode: options.content ?? 'id-only' }] },
      header: ['Authorization: Bearer hook-secret'],
      ...(options.heartbeat
        ? { extension: [{ url: BACKPORT.heartbeatPeriod, valueUnsignedInt: options.heartbeat }] }
        : {}),
    },
  };
}

describe('GP subscriptions', () => {
  let gp: MessageReceiver;
  let hook: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/fhir+json') =>
      t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', type)
        .send(typeof body === 'string' ? body : JSON.stringify(body)),
    put: (path: string, body: unknown) =>
      t.http
        .put(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/fhir+json')
        .send(JSON.stringify(body)),
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const notifications = (id: string) =>
    hook.received.map(read).filter((n) => n.subscription.endsWith(`/Subscription/${id}`));
  const arrived = <T>(find: () => T | undefined, what: string) =>
    eventually(() => Promise.resolve(find()), 15000, what);
  const subscribe = async (body: Subscription) => {
    const res = await as(KEY.gp).post('/fhir/Subscription', body);
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await arrived(() => notifications(id).find((n) => n.type === 'handshake'), 'handshake');
    await eventually(
      async () => ((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status === 'active' ? true : undefined),
      10000,
      'active',
    );
    return id;
  };
  const letter = (cpr = PATIENT_CPR) => {
    const body = nativeLetter();
    (body.patient as { cpr: string }).cpr = cpr;
    return as(KEY.hospital).post('/discharge-letters', body, 'application/json');
  };
  const newPatient = async (gpSor = GP_SOR) => {
    const cpr = `2222${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    await as(KEY.admin)
      .post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: SYSTEM.cpr, value: cpr }],
              generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: gpSor } }],
            },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      })
      .expect(200);
    return cpr;
  };

  beforeAll(async () => {
    gp = await startMessageReceiver();
    hook = await startMessageReceiver({ behaviour: { kind: 'status', status: 200 } });
    t = await startTestGateway({
      env: {
        SUBSCRIPTION_ATTEMPTS: '3',
        SUBSCRIPTION_BACKOFF_MS: '20',
        SUBSCRIPTION_POLL_MS: '100',
        SUBSCRIPTION_TIMEOUT_MS: '2000',
      },
    });
    await as(KEY.admin).post('/fhir', directoryBundle(gp.url), 'application/json').expect(200);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
    await hook.close();
  });

  it('publishes its topics as R4 Basic resources (and as SubscriptionTopic for R4B/R5 clients)', async () => {
    const urlOf = (b: Basic) =>
      b.extension?.find((e) => e.url === 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url')
        ?.valueUri;
    for (const code of ['SubscriptionTopic', 'http://hl7.org/fhir/fhir-types|SubscriptionTopic']) {
      const res = await as(KEY.gp).get(`/fhir/Basic?code=${encodeURIComponent(code)}`);
      expect(res.status).toBe(200);
      const found = res.body as Bundle<Basic>;
      expect(found.entry?.map((e) => e.resource?.resourceType)).toEqual(['Basic', 'Basic', 'Basic', 'Basic']);
      expect(found.entry?.map((e) => urlOf(e.resource as Basic))).toEqual([
        DOCUMENTS,
        ENCOUNTERS,
        STATUS_REPORTS,
        `${CANONICAL_BASE}/SubscriptionTopic/symptom-report-alert`,
      ]);
      expect(found.entry?.[0]?.resource?.code.coding).toEqual([
        { system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' },
      ]);
      // What an R4 parser takes: base R4 validation finds no errors in the whole answer.
      expect(
        getDefaultValidator()
          .validate(found)
          .filter((i) => i.severity === 'error' || i.severity === 'fatal'),
      ).toEqual([]);
      const one = await as(KEY.gp).get(new URL(found.entry?.[0]?.fullUrl ?? '').pathname);
      expect(one.status).toBe(200);
      expect(urlOf(one.body as Basic)).toBe(DOCUMENTS);
    }
    expect((await as(KEY.gp).get('/fhir/Basic?code=Observation')).body.total).toBe(0);
    const twice = await as(KEY.gp).get('/fhir/Basic?code=SubscriptionTopic&code=SubscriptionTopic');
    expect(twice.status).toBe(400);
    expect(twice.body.issue[0].expression).toEqual(['code']);
    expect((await as(KEY.gp).get('/fhir/Basic/no-such-topic')).status).toBe(404);
    const metadata = (await t.http.get('/fhir/metadata')).body as CapabilityStatement;
    expect(metadata.rest?.[0]?.resource?.find((r) => r.type === 'Basic')?.searchParam?.map((p) => p.name)).toEqual([
      'code',
    ]);

    const r5 = await as(KEY.gp).get('/fhir/SubscriptionTopic');
    expect(r5.body.entry.map((e: { resource: { url: string } }) => e.resource.url)).toEqual([
      DOCUMENTS,
      ENCOUNTERS,
      STATUS_REPORTS,
      `${CANONICAL_BASE}/SubscriptionTopic/symptom-report-alert`,
    ]);
  });

  it('handshakes, then notifies every new document about a listed patient in order, with the events counted', async () => {
    const cpr = await newPatient();
    const id = await subscribe(
      subscription(DOCUMENTS, `${hook.url}/hook-order`, { filter: `Patient?identifier=${SYSTEM.cpr}|${cpr}` }),
    );
    expect(hook.received.find((m) => m.path === '/hook-order')).toBeDefined();
    for (let i = 0; i < 5; i += 1) {
      expect((await letter(cpr)).status).toBe(202);
    }
    await arrived(
      () => (notifications(id).filter((n) => n.type === 'event-notification').length >= 5 ? true : undefined),
      'five notifications',
    );
    const events = notifications(id).filter((n) => n.type === 'event-notification');
    expect(events.map((n) => n.events[0]?.number)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((n) => n.eventsSinceStart)).toEqual([1, 2, 3, 4, 5]);
    expect(events[0]?.events[0]?.focus).toMatch(/\/fhir\/Bundle\/[0-9a-f-]{36}$/);
    // id-only: the focus is named, not included.
    expect(events[0]?.bundle.entry?.[1]?.resource).toBeUndefined();
    expect(events[0]?.bundle.type).toBe('history');
    // The focus can be fetched by the practice it was delivered to.
    const focusId = events[0]!.events[0]!.focus!.split('/').pop()!;
    const fetched = await as(KEY.gp).get(`/fhir/Bundle/${focusId}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.type).toBe('message');
    expect((await as(KEY.hospital).get(`/fhir/Bundle/${focusId}`)).status).toBe(404);
  });

  it('lets a receiver that was down detect the gap and catch up with $status and $events; the subscription errors and is reactivated', async () => {
    const cpr = await newPatient();
    const id = await subscribe(
      subscription(DOCUMENTS, `${hook.url}/hook-down`, { filter: `Patient?identifier=${SYSTEM.cpr}|${cpr}` }),
    );
    hook.behaviour = (m) =>
      m.path === '/hook-down' ? { kind: 'status', status: 503 } : { kind: 'status', status: 200 };
    try {
      for (let i = 0; i < 3; i += 1) {
        expect((await letter(cpr)).status).toBe(202);
      }
      await eventually(
        async () => ((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status === 'error' ? true : undefined),
        15000,
        'error status',
      );
    } finally {
      hook.behaviour = { kind: 'status', status: 200 };
    }
    const status = (await as(KEY.gp).get(`/fhir/Subscription/${id}/$status`)).body as Bundle;
    const parameters = (status.entry?.[0]?.resource as Parameters).parameter ?? [];
    expect(parameters.find((p) => p.name === 'status')?.valueCode).toBe('error');
    expect(parameters.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('3');

    const missed = (await as(KEY.gp).get(`/fhir/Subscription/${id}/$events?eventsSinceNumber=2&eventsUntilNumber=3`))
      .body as Bundle;
    const numbers = ((missed.entry?.[0]?.resource as Parameters).parameter ?? [])
      .filter((p) => p.name === 'notification-event')
      .map((p) => p.part?.[0]?.valueString);
    expect(numbers).toEqual(['2', '3']);
    expect((await as(KEY.gp).get(`/fhir/Subscription/${id}/$events?eventsSinceNumber=x`)).status).toBe(400);

    const current = (await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body as Subscription;
    const before = hook.received.length;
    const reactivated = await as(KEY.gp).put(`/fhir/Subscription/${id}`, { ...current, status: 'requested' });
    expect(reactivated.status).toBe(200);
    const afterwards = () =>
      hook.received
        .slice(before)
        .map(read)
        .filter((n) => n.subscription.endsWith(`/Subscription/${id}`) && n.type === 'event-notification');
    await arrived(() => (afterwards().length >= 3 ? true : undefined), 'backlog after reactivation');
    expect(afterwards().map((n) => n.events[0]?.number)).toEqual([1, 2, 3]);
  });

  it('refuses subscriptions to patients not listed with the practice (403), and stops events when a patient moves', async () => {
    const others = await newPatient(OTHER_GP_SOR);
    expect(
      (
        await as(KEY.gp).post(
          '/fhir/Subscription',
          subscription(DOCUMENTS, hook.url, { filter: `Patient?identifier=${SYSTEM.cpr}|${others}` }),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await as(KEY.gp).post(
          '/fhir/Subscription',
          subscription(DOCUMENTS, hook.url, { filter: `Patient?general-practitioner=${SYSTEM.sor}|${OTHER_GP_SOR}` }),
        )
      ).status,
    ).toBe(403);
    expect((await as(KEY.jobcentre).post('/fhir/Subscription', subscription(DOCUMENTS, hook.url))).status).toBe(403);
    const bad = await as(KEY.gp).post('/fhir/Subscription', {
      ...subscription('http://example.org/topic', 'ftp://x'),
      channel: { type: 'websocket' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issue.map((i: { expression: string[] }) => i.expression[0])).toEqual(
      expect.arrayContaining(['Subscription.criteria', 'Subscription.channel.type', 'Subscription.channel.endpoint']),
    );

    const mover = await newPatient();
    const id = await subscribe(
      subscription(DOCUMENTS, `${hook.url}/hook-all`, {
        filter: `Patient?general-practitioner=${SYSTEM.sor}|${GP_SOR}`,
      }),
    );
    await letter(mover).expect(202);
    await arrived(() => notifications(id).find((n) => n.type === 'event-notification'), 'event before the move');
    await as(KEY.admin)
      .post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: SYSTEM.cpr, value: mover }],
              generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: OTHER_GP_SOR } }],
            },
            request: { method: 'PUT', url: `Patient?identifier=${SYSTEM.cpr}|${mover}` },
          },
        ],
      })
      .expect(200);
    await letter(mover).expect(202);
    await new Promise((r) => setTimeout(r, 800));
    expect(notifications(id).filter((n) => n.type === 'event-notification')).toHaveLength(1);
    expect((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status).toBe('active');
  });

  it('sends full-resource where consent allows, and nothing, not even id-only, about a patient who objected', async () => {
    const open = await newPatient();
    const objecting = await newPatient();
    const deny = consentFor(
      'deny',
      { system: SYSTEM.sor, value: GP_SOR },
      { class: dataClasses('encounter-notification') },
      objecting,
    );
    await as(KEY.admin).post('/fhir/Consent', deny).expect(201);
    const id = await subscribe(subscription(ENCOUNTERS, `${hook.url}/hook-full`, { content: 'full-resource' }));
    const adt = readFileSync(join(__dirname, '../fixtures/hl7v2/adt-a01.hl7'), 'utf8');
    for (const [i, cpr] of [open, objecting].entries()) {
      const res = await as(KEY.hospital).post(
        '/hl7v2',
        adt.replace('0101901234', cpr).replace('ADT-2026-0001', `ADT-SUB-${cpr}-${i}`),
        'x-application/hl7-v2+er7',
      );
      expect(res.status).toBe(202);
    }
    // The objecting patient's event is handled (blocked, in their log) after the open patient's was sent.
    const blocked = await eventually(
      async () => {
        const rows = await t.db.query<{ resource: AuditEvent }>(
          "SELECT resource FROM audit_events WHERE patient_cpr = $1 AND action = 'blocked' AND resource::text LIKE '%subscription-notification%'",
          [objecting],
        );
        return rows.length > 0 ? rows : undefined;
      },
      10000,
      'the blocked notification in the patient log',
    );
    expect(blocked[0]?.resource.outcomeDesc).toContain(`Subscription/${id}`);
    const events = notifications(id).filter((n) => n.type === 'event-notification');
    expect(events).toHaveLength(1);
    expect(events[0]?.bundle.entry?.[1]?.resource?.resourceType).toBe('Bundle');
    expect(JSON.stringify(events[0]?.bundle)).toContain(open);
    expect(JSON.stringify(notifications(id))).not.toContain(objecting);
    // $events leaves it out too.
    const caughtUp = await as(KEY.gp).get(`/fhir/Subscription/${id}/$events`);
    expect(caughtUp.status).toBe(200);
    expect(JSON.stringify(caughtUp.body)).not.toContain(objecting);
  });

  it('notifies the practice of a status-report request addressed to it, and sends heartbeats', async () => {
    const permit = consentFor(
      'permit',
      { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY },
      {
        purpose: purposes('work-capacity-assessment'),
        class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline'),
      },
    );
    await as(KEY.jobcentre).post('/fhir/Consent', permit).expect(201);
    const id = await subscribe(subscription(STATUS_REPORTS, `${hook.url}/hook-tasks`, { heartbeat: 1 }));
    const request = await as(KEY.jobcentre).post(
      '/status-report-requests',
      { patient: { cpr: PATIENT_CPR }, questionSet: 'LAE125', reason: 'Vi planlægger en gradvis tilbagevenden.' },
      'application/json',
    );
    expect(request.status).toBe(202);
    const event = await arrived(
      () => notifications(id).find((n) => n.type === 'event-notification'),
      'status-report event',
    );
    expect(event.events[0]?.focus).toMatch(new RegExp(`/fhir/Task/${request.body.id as string}$`));
    await arrived(() => notifications(id).find((n) => n.type === 'heartbeat'), 'heartbeat');
  });

  it("points a listed practice that was not the addressee at its own copy, not at another recipient's delivery; consent-checked and audited", async () => {
    const cpr = await newPatient();
    const filter = `Patient?identifier=${SYSTEM.cpr}|${cpr}`;
    const idOnly = await subscribe(subscription(DOCUMENTS, `${hook.url}/hook-copy-id`, { filter }));
    const full = await subscribe(
      subscription(DOCUMENTS, `${hook.url}/hook-copy-full`, { filter, content: 'full-resource' }),
    );
    const body = nativeLetter();
    (body.patient as { cpr: string }).cpr = cpr;
    const sent = await as(KEY.hospital).post(
      '/discharge-letters',
      { ...body, recipient: { sor: OTHER_GP_SOR } },
      'application/json',
    );
    expect(sent.status).toBe(202);
    const tracking = await as(KEY.admin).get(`/messages/${sent.body.id as string}`);
    const othersDelivery = tracking.body.deliveries[0].id as string;
    expect(tracking.body.deliveries[0].recipient.sor).toBe(OTHER_GP_SOR);

    const event = await arrived(
      () => notifications(idOnly).find((n) => n.type === 'event-notification'),
      'id-only event',
    );
    const focusId = event.events[0]?.focus?.split('/').pop() ?? '';
    expect(focusId).not.toBe(othersDelivery);
    const fetched = await as(KEY.gp).get(`/fhir/Bundle/${focusId}`);
    expect(fetched.status).toBe(200);
    const copy = fetched.body as Bundle;
    expect(copy.entry?.map((e) => e.resource?.resourceType)).toContain('Composition');
    expect(copy.entry?.map((e) => e.resource?.resourceType)).not.toContain('MessageHeader');
    expect(JSON.stringify(copy)).not.toContain(OTHER_GP_SOR);
    expect((await as(KEY.gp).get(`/fhir/Bundle/${othersDelivery}`)).status).toBe(404);
    expect((await as(KEY.hospital).get(`/fhir/Bundle/${focusId}`)).status).toBe(404);

    // Full-resource: the same copy, never the Bundle built for the other recipient.
    const fullEvent = await arrived(
      () => notifications(full).find((n) => n.type === 'event-notification'),
      'full-resource event',
    );
    const payload = fullEvent.bundle.entry?.[1]?.resource as Bundle;
    expect(payload.resourceType).toBe('Bundle');
    expect(payload.id).not.toBe(othersDelivery);
    expect(payload.entry?.map((e) => e.resource?.resourceType)).not.toContain('MessageHeader');
    expect(JSON.stringify(payload)).not.toContain(OTHER_GP_SOR);

    // The read is a disclosure to the practice, in the patient's log.
    const reads = await t.db.query<{ resource: AuditEvent }>(
      "SELECT resource FROM audit_events WHERE patient_cpr = $1 AND resource->>'outcomeDesc' LIKE 'read by%'",
      [cpr],
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]?.resource.outcome).toBe('0');
    expect(reads[0]?.resource.agent.find((a) => !a.requestor)?.who?.identifier).toEqual({
      system: SYSTEM.sor,
      value: GP_SOR,
    });

    // Once the patient objects, the copy is refused (403 naming the id) and the refusal logged.
    await as(KEY.admin)
      .post(
        '/fhir/Consent',
        consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }, { class: dataClasses('discharge-letter') }, cpr),
      )
      .expect(201);
    const refused = await as(KEY.gp).get(`/fhir/Bundle/${focusId}`);
    expect(refused.status).toBe(403);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(refused.body.issue[0].diagnostics).toMatch(/^id: /);
    const refusals = await t.db.query(
      "SELECT resource FROM audit_events WHERE patient_cpr = $1 AND action = 'refused'",
      [cpr],
    );
    expect(refusals).toHaveLength(1);
  });

  it('audits resources $events hands out as disclosed to the caller, an admin included', async () => {
    const cpr = await newPatient();
    const id = await subscribe(
      subscription(DOCUMENTS, `${hook.url}/hook-events-admin`, {
        filter: `Patient?identifier=${SYSTEM.cpr}|${cpr}`,
        content: 'full-resource',
      }),
    );
    await letter(cpr).expect(202);
    await arrived(() => notifications(id).find((n) => n.type === 'event-notification'), 'the event');
    const res = await as(KEY.admin).get(`/fhir/Subscription/${id}/$events`);
    expect(res.status).toBe(200);
    expect((res.body as Bundle).entry?.[1]?.resource?.resourceType).toBe('Bundle');
    const rows = await t.db.query<{ resource: AuditEvent }>(
      "SELECT resource FROM audit_events WHERE patient_cpr = $1 AND resource->>'outcomeDesc' LIKE '$events%'",
      [cpr],
    );
    expect(rows).toHaveLength(1);
    const admin = DEMO_CLIENTS.find((c) => c.role === 'admin');
    expect(rows[0]?.resource.agent.find((a) => !a.requestor)?.who?.identifier).toEqual(admin?.organization);
    expect(rows[0]?.resource.outcomeDesc).toContain(admin?.id);
  });

  it('takes rest-hooks over https only, unless plain http is allowed (by default outside production); refuses headers the gateway sets', async () => {
    expect(loadConfig({}).subscriptions.allowHttp).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).subscriptions.allowHttp).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SUBSCRIPTION_ALLOW_HTTP: 'true' }).subscriptions.allowHttp).toBe(true);
    const strict = await startTestGateway({ env: { SUBSCRIPTION_ALLOW_HTTP: 'false', SUBSCRIPTION_ATTEMPTS: '1' } });
    try {
      const post = (body: Subscription) =>
        strict.http
          .post('/fhir/Subscription')
          .set('Authorization', `Bearer ${KEY.gp}`)
          .set('Content-Type', 'application/fhir+json')
          .send(JSON.stringify(body));
      const plain = await post(subscription(DOCUMENTS, `${hook.url}/hook-plain`));
      expect(plain.status).toBe(400);
      expect(plain.body.resourceType).toBe('OperationOutcome');
      expect(plain.body.issue.map((i: { expression: string[] }) => i.expression[0])).toEqual([
        'Subscription.channel.endpoint',
      ]);
      expect((await post(subscription(DOCUMENTS, 'https://127.0.0.1:1/hook'))).status).toBe(201);
    } finally {
      await strict.close();
    }
    const base = subscription(DOCUMENTS, hook.url);
    for (const header of ['Content-Type: text/plain', 'Host: elsewhere.example', 'Content-Length: 0']) {
      const res = await as(KEY.gp).post('/fhir/Subscription', {
        ...base,
        channel: { ...base.channel, header: [header] },
      });
      expect(res.status).toBe(400);
      expect(res.body.issue.map((i: { expression: string[] }) => i.expression[0])).toEqual([
        'Subscription.channel.header',
      ]);
    }
  });

  it('refuses a Subscription.end that has already passed (400 naming it)', async () => {
    const past = await as(KEY.gp).post('/fhir/Subscription', {
      ...subscription(DOCUMENTS, hook.url),
      end: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(400);
    expect(past.body.issue.map((i: { expression: string[] }) => i.expression[0])).toEqual(['Subscription.end']);
  });

  it('stops a subscription whose end has passed: no events, no notifications, status off', async () => {
    const cpr = await newPatient();
    const filter = `Patient?identifier=${SYSTEM.cpr}|${cpr}`;
    const end = new Date(Date.now() + 2500).toISOString();
    const id = await subscribe({ ...subscription(DOCUMENTS, `${hook.url}/hook-end`, { filter }), end });
    await new Promise((r) => setTimeout(r, Date.parse(end) - Date.now() + 100));
    await letter(cpr).expect(202);
    await new Promise((r) => setTimeout(r, 800));
    expect(notifications(id).filter((n) => n.type === 'event-notification')).toHaveLength(0);
    const status = (await as(KEY.gp).get(`/fhir/Subscription/${id}/$status`)).body as Bundle;
    const parameters = (status.entry?.[0]?.resource as Parameters).parameter ?? [];
    expect(parameters.find((p) => p.name === 'status')?.valueCode).toBe('off');
    expect(parameters.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('0');
    expect((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status).toBe('off');
  });
});
