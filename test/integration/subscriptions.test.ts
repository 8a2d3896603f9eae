import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Parameters, Subscription } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver, type ReceivedMessage } from '../../scripts/fhir-message-receiver';
import { BACKPORT } from '../../src/mappers/subscription/backport';
import { SYSTEM } from '../../src/mappers/systems';
import { TOPICS } from '../../src/subscriptions/topics';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { GP_SOR, JOBCENTRE_MUNICIPALITY, OTHER_GP_SOR, PATIENT_CPR, directoryBundle } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * GP subscriptions end to end with a real loopback rest-hook: handshake, notifications in order, gap detection
 * and catch-up with $status/$events after the receiver was down, authorisation to listed patients only, events
 * that stop when a patient moves, and consent limiting full-resource payloads.
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
      .map((p) => ({ number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString), focus: p.part?.find((x) => x.name === 'focus')?.valueReference?.reference })),
    bundle: m.bundle,
  };
}

function subscription(topic: string, endpoint: string, options: { filter?: string; content?: string; heartbeat?: number } = {}): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Opdateringer om mine patienter',
    criteria: topic,
    ...(options.filter ? { _criteria: { extension: [{ url: BACKPORT.filterCriteria, valueString: options.filter }] } } : {}),
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: BACKPORT.payloadContent, valueCode: options.content ?? 'id-only' }] },
      header: ['Authorization: Bearer hook-secret'],
      ...(options.heartbeat ? { extension: [{ url: BACKPORT.heartbeatPeriod, valueUnsignedInt: options.heartbeat }] } : {}),
    },
  };
}

describe('GP subscriptions', () => {
  let gp: MessageReceiver;
  let hook: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/fhir+json') => t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', type).send(typeof body === 'string' ? body : JSON.stringify(body)),
    put: (path: string, body: unknown) => t.http.put(path).set('Authorization', `Bearer ${key}`).set('Content-Type', 'application/fhir+json').send(JSON.stringify(body)),
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const notifications = (id: string) => hook.received.map(read).filter((n) => n.subscription.endsWith(`/Subscription/${id}`));
  const arrived = <T>(find: () => T | undefined, what: string) => eventually(() => Promise.resolve(find()), 15000, what);
  const subscribe = async (body: Subscription) => {
    const res = await as(KEY.gp).post('/fhir/Subscription', body);
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await arrived(() => notifications(id).find((n) => n.type === 'handshake'), 'handshake');
    await eventually(async () => ((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status === 'active' ? true : undefined), 10000, 'active');
    return id;
  };
  const letter = (cpr = PATIENT_CPR) => {
    const body = nativeLetter();
    (body.patient as { cpr: string }).cpr = cpr;
    return as(KEY.hospital).post('/discharge-letters', body, 'application/json');
  };
  const newPatient = async (gpSor = GP_SOR) => {
    const cpr = `2222${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    await as(KEY.admin).post('/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM.cpr, value: cpr }], generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: gpSor } }] }, request: { method: 'POST', url: 'Patient' } }] }).expect(200);
    return cpr;
  };

  beforeAll(async () => {
    gp = await startMessageReceiver();
    hook = await startMessageReceiver({ behaviour: { kind: 'status', status: 200 } });
    t = await startTestGateway({ env: { SUBSCRIPTION_ATTEMPTS: '3', SUBSCRIPTION_BACKOFF_MS: '20', SUBSCRIPTION_POLL_MS: '100', SUBSCRIPTION_TIMEOUT_MS: '2000' } });
    await as(KEY.admin).post('/fhir', directoryBundle(gp.url), 'application/json').expect(200);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
    await hook.close();
  });

  it('publishes its topics', async () => {
    const res = await as(KEY.gp).get('/fhir/SubscriptionTopic');
    expect(res.body.entry.map((e: { resource: { url: string } }) => e.resource.url)).toEqual([DOCUMENTS, ENCOUNTERS, STATUS_REPORTS]);
  });

  it('handshakes, then notifies every new document about a listed patient in order, with the events counted', async () => {
    const cpr = await newPatient();
    const id = await subscribe(subscription(DOCUMENTS, `${hook.url}/hook-order`, { filter: `Patient?identifier=${SYSTEM.cpr}|${cpr}` }));
    expect(hook.received.find((m) => m.path === '/hook-order')).toBeDefined();
    for (let i = 0; i < 5; i += 1) {
      expect((await letter(cpr)).status).toBe(202);
    }
    await arrived(() => (notifications(id).filter((n) => n.type === 'event-notification').length >= 5 ? true : undefined), 'five notifications');
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
    const id = await subscribe(subscription(DOCUMENTS, `${hook.url}/hook-down`, { filter: `Patient?identifier=${SYSTEM.cpr}|${cpr}` }));
    hook.behaviour = (m) => (m.path === '/hook-down' ? { kind: 'status', status: 503 } : { kind: 'status', status: 200 });
    try {
      for (let i = 0; i < 3; i += 1) {
        expect((await letter(cpr)).status).toBe(202);
      }
      await eventually(async () => ((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status === 'error' ? true : undefined), 15000, 'error status');
    } finally {
      hook.behaviour = { kind: 'status', status: 200 };
    }
    const status = (await as(KEY.gp).get(`/fhir/Subscription/${id}/$status`)).body as Bundle;
    const parameters = (status.entry?.[0]?.resource as Parameters).parameter ?? [];
    expect(parameters.find((p) => p.name === 'status')?.valueCode).toBe('error');
    expect(parameters.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('3');

    const missed = (await as(KEY.gp).get(`/fhir/Subscription/${id}/$events?eventsSinceNumber=2&eventsUntilNumber=3`)).body as Bundle;
    const numbers = ((missed.entry?.[0]?.resource as Parameters).parameter ?? []).filter((p) => p.name === 'notification-event').map((p) => p.part?.[0]?.valueString);
    expect(numbers).toEqual(['2', '3']);
    expect((await as(KEY.gp).get(`/fhir/Subscription/${id}/$events?eventsSinceNumber=x`)).status).toBe(400);

    const current = (await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body as Subscription;
    const before = hook.received.length;
    const reactivated = await as(KEY.gp).put(`/fhir/Subscription/${id}`, { ...current, status: 'requested' });
    expect(reactivated.status).toBe(200);
    const afterwards = () => hook.received.slice(before).map(read).filter((n) => n.subscription.endsWith(`/Subscription/${id}`) && n.type === 'event-notification');
    await arrived(() => (afterwards().length >= 3 ? true : undefined), 'backlog after reactivation');
    expect(afterwards().map((n) => n.events[0]?.number)).toEqual([1, 2, 3]);
  });

  it('refuses subscriptions to patients not listed with the practice (403), and stops events when a patient moves', async () => {
    const others = await newPatient(OTHER_GP_SOR);
    expect((await as(KEY.gp).post('/fhir/Subscription', subscription(DOCUMENTS, hook.url, { filter: `Patient?identifier=${SYSTEM.cpr}|${others}` }))).status).toBe(403);
    expect((await as(KEY.gp).post('/fhir/Subscription', subscription(DOCUMENTS, hook.url, { filter: `Patient?general-practitioner=${SYSTEM.sor}|${OTHER_GP_SOR}` }))).status).toBe(403);
    expect((await as(KEY.jobcentre).post('/fhir/Subscription', subscription(DOCUMENTS, hook.url))).status).toBe(403);
    const bad = await as(KEY.gp).post('/fhir/Subscription', { ...subscription('http://example.org/topic', 'ftp://x'), channel: { type: 'websocket' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issue.map((i: { expression: string[] }) => i.expression[0])).toEqual(expect.arrayContaining(['Subscription.criteria', 'Subscription.channel.type', 'Subscription.channel.endpoint']));

    const mover = await newPatient();
    const id = await subscribe(subscription(DOCUMENTS, `${hook.url}/hook-all`, { filter: `Patient?general-practitioner=${SYSTEM.sor}|${GP_SOR}` }));
    await letter(mover).expect(202);
    await arrived(() => notifications(id).find((n) => n.type === 'event-notification'), 'event before the move');
    await as(KEY.admin).post('/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM.cpr, value: mover }], generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: OTHER_GP_SOR } }] }, request: { method: 'PUT', url: `Patient?identifier=${SYSTEM.cpr}|${mover}` } }] }).expect(200);
    await letter(mover).expect(202);
    await new Promise((r) => setTimeout(r, 800));
    expect(notifications(id).filter((n) => n.type === 'event-notification')).toHaveLength(1);
    expect((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status).toBe('active');
  });

  it('sends full-resource only where consent allows, else id-only', async () => {
    const open = await newPatient();
    const objecting = await newPatient();
    const deny = consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }, { class: dataClasses('encounter-notification') }, objecting);
    await as(KEY.admin).post('/fhir/Consent', deny).expect(201);
    const id = await subscribe(subscription(ENCOUNTERS, `${hook.url}/hook-full`, { content: 'full-resource' }));
    const adt = readFileSync(join(__dirname, '../fixtures/hl7v2/adt-a01.hl7'), 'utf8');
    for (const [i, cpr] of [open, objecting].entries()) {
      const res = await as(KEY.hospital).post('/hl7v2', adt.replace('0101901234', cpr).replace('ADT-2026-0001', `ADT-SUB-${cpr}-${i}`), 'x-application/hl7-v2+er7');
      expect(res.status).toBe(202);
    }
    await arrived(() => (notifications(id).filter((n) => n.type === 'event-notification').length >= 2 ? true : undefined), 'two admission events');
    const [first, second] = notifications(id).filter((n) => n.type === 'event-notification');
    expect(first?.bundle.entry?.[1]?.resource?.resourceType).toBe('Bundle');
    expect(JSON.stringify(first?.bundle)).toContain(open);
    expect(second?.bundle.entry?.[1]?.resource).toBeUndefined();
    expect(JSON.stringify(second?.bundle)).not.toContain('Mette');
    const audit = await eventually(async () => {
      const rows = await t.db.query("SELECT resource FROM audit_events WHERE patient_cpr = $1 AND resource::text LIKE '%subscription-notification%'", [objecting]);
      return rows.length > 0 ? rows : undefined;
    }, 10000, 'the audit of the notification');
    expect(JSON.stringify(audit)).toContain('id-only');
  });

  it('notifies the practice of a status-report request addressed to it, and sends heartbeats', async () => {
    const permit = consentFor('permit', { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY }, { purpose: purposes('work-capacity-assessment'), class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline') });
    await as(KEY.jobcentre).post('/fhir/Consent', permit).expect(201);
    const id = await subscribe(subscription(STATUS_REPORTS, `${hook.url}/hook-tasks`, { heartbeat: 1 }));
    const request = await as(KEY.jobcentre).post('/status-report-requests', { patient: { cpr: PATIENT_CPR }, questionSet: 'LAE125', reason: 'Vi planlægger en gradvis tilbagevenden.' }, 'application/json');
    expect(request.status).toBe(202);
    const event = await arrived(() => notifications(id).find((n) => n.type === 'event-notification'), 'status-report event');
    expect(event.events[0]?.focus).toMatch(new RegExp(`/fhir/Task/${request.body.id as string}$`));
    await arrived(() => notifications(id).find((n) => n.type === 'heartbeat'), 'heartbeat');
  });
});
