import type { AuditEvent, Bundle, DetectedIssue, MessageHeader, Observation } from 'fhir/r4';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { BACKPORT } from '../../src/mappers/subscription/backport';
import { CANONICAL_BASE, SYSTEM } from '../../src/mappers/systems';
import { createFhirValidator } from '../../src/validation/fhir-validator';
import { consentFor, dataClasses } from '../helpers/consents';
import { GP_SOR, PATIENT_CPR, directoryBundle } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { careManagerDirectory, careTeam, phq9Response } from '../helpers/symptom-reports';
import { KEY, eventually, startGatewayWithGp, startTestGateway } from '../helpers/test-gateway';
import { startMessageReceiver } from '../../scripts/fhir-message-receiver';

/**
 * Issue 18, items 2 and 3 end to end on real Redis, a real database and a loopback receiver standing in for
 * the GP practice and the care manager's team: the care team, the care manager's copy of a discharge letter,
 * symptom reports scored and alerted (consent first, ahead of routine traffic), pausing, the work list and the
 * patient's disclosure log.
 */
const CM_SOR = DEMO_CLIENTS.find((c) => c.role === 'caremanager')!.organization.value;
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
const CM_KEY = DEMO_CLIENTS.find((c) => c.role === 'caremanager')!.apiKey;
const HEALTH = { system: SYSTEM.sector, value: 'health' };
const TREAT = [{ system: SYSTEM.actReason, code: 'TREAT' }];

/** eventually() for a synchronous check. */
const until = <T>(check: () => T | undefined, what: string) => eventually(() => Promise.resolve(check()), 10000, what);

type Setup = Awaited<ReturnType<typeof startGatewayWithGp>>;

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  const setup = await startGatewayWithGp({ env });
  await setup.t.http
    .post('/fhir')
    .set('Authorization', `Bearer ${KEY.admin}`)
    .send(careManagerDirectory(CM_SOR, 'Opfølgningsteamet, Psykiatrisk Center Testby', `${setup.gp.url}/caremanager`))
    .expect(200);
  return setup;
}

describe('care after discharge: care manager and symptom reports', () => {
  let setup: Setup;
  const as = (key: string) => ({
    post: (path: string, body?: unknown) =>
      setup.t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/fhir+json')
        .send(body === undefined ? '' : JSON.stringify(body)),
    get: (path: string) => setup.t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const at = (path: string) => setup.gp.received.filter((m) => m.path.startsWith(path));
  const alertsAt = (path: string) =>
    at(path).filter(
      (m) => (m.bundle.entry?.[0]?.resource as MessageHeader).eventCoding?.code === 'symptom-report-alert',
    );
  const toGp = () => setup.gp.received.filter((m) => !m.path.includes('/caremanager'));

  beforeAll(async () => {
    setup = await setUp();
  });
  afterAll(async () => {
    await setup.close();
  });

  it('a hospital records the care team; the care manager named in it reads it; a GP may not record one', async () => {
    const created = await as(KEY.hospital).post('/fhir/CareTeam', careTeam(CM_SOR));
    expect(created.status).toBe(201);
    expect(created.body.managingOrganization[0].identifier.value).toBe('265161000016004');
    await as(CM_KEY)
      .get(`/fhir/CareTeam/${created.body.id as string}`)
      .expect(200);
    await as(PATIENT_KEY)
      .get(`/fhir/CareTeam/${created.body.id as string}`)
      .expect(200);
    expect((await as(KEY.gp).post('/fhir/CareTeam', careTeam(CM_SOR))).status).toBe(403);
    const unknown = await as(KEY.hospital).post('/fhir/CareTeam', careTeam('123456789012345'));
    expect(unknown.status).toBe(422);
    const noEnd = careTeam(CM_SOR) as { period: { start: string; end?: string } };
    delete noEnd.period.end;
    const bad = await as(KEY.hospital).post('/fhir/CareTeam', noEnd);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('CareTeam.period.end');
  });

  it("the care manager gets a copy of the discharge letter; the patient's deny for the care manager stops it", async () => {
    const before = at('/caremanager').length;
    const letter = await setup.t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(letter.status).toBe(202);
    const copy = await until(() => at('/caremanager')[before], 'care manager copy');
    const header = copy.bundle.entry?.[0]?.resource as MessageHeader;
    expect(header.eventCoding?.code).toBe('discharge-letter');
    expect(header.destination?.[0]?.receiver?.display).toContain('Opfølgningsteamet');
    // The care manager sees it among what it received and reads the exact Bundle it was sent; the GP cannot.
    const received = await as(CM_KEY).get('/messages?side=received&kind=discharge-letter');
    expect(received.status).toBe(200);
    // Its copy is a message of its own (sent by the gateway on the letter's behalf): the newest it received.
    const [item] = received.body.items as Array<{ id: string; deliveries: Array<{ bundle?: string }> }>;
    const path = new URL(item!.deliveries[0]!.bundle!).pathname;
    const read = await as(CM_KEY).get(path);
    expect(read.status).toBe(200);
    expect((read.body.entry[0].resource as MessageHeader).id).toBe(header.id);
    expect((await as(KEY.gp).get(path)).status).toBe(404);

    const deny = await as(PATIENT_KEY).post(
      '/fhir/Consent',
      consentFor('deny', { system: SYSTEM.sor, value: CM_SOR }, { class: dataClasses('discharge-letter') }),
    );
    expect(deny.status).toBe(201);
    const gpBefore = toGp().length;
    await setup.t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter())
      .expect(202);
    await until(() => (toGp().length > gpBefore ? true : undefined), 'letter to the GP');
    const log = await as(PATIENT_KEY).get(`/fhir/AuditEvent?patient=${PATIENT_CPR}`);
    const refused = (log.body as Bundle).entry
      ?.map((e) => e.resource as AuditEvent)
      .filter((e) => e.subtype?.[0]?.code === 'refused' && JSON.stringify(e).includes(CM_SOR));
    expect(refused?.length).toBe(1);
    expect(at('/caremanager').length).toBe(before + 1);
    await setup.t.http
      .delete(`/fhir/Consent/${deny.body.id as string}`)
      .set('Authorization', `Bearer ${PATIENT_KEY}`)
      .expect(200);
  });

  it('without consent a self-harm answer is scored, kept, tells the patient whom to call, and alerts no one', async () => {
    const res = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([1, 1, 1, 1, 1, 1, 1, 1, 2]));
    expect(res.status).toBe(201);
    expect(res.body.score).toEqual({ scorable: true, total: 10, severity: 'moderate', substitutedItems: [] });
    expect(res.body.rulesFired.map((r: { rule: string }) => r.rule)).toEqual(['self-harm-answer']);
    expect(res.body.callNow.contacts.map((c: { phone: string }) => c.phone)).toEqual(['112', '1813', '70 201 201']);
    expect(res.body.alert.sentTo).toEqual([]);
    expect(res.body.alert.notSentTo.map((n: { role: string }) => n.role).sort()).toEqual(['care-manager', 'gp']);
    const history = await as(PATIENT_KEY).get('/symptom-reports').expect(200);
    expect(history.body.reports[0]).toMatchObject({ id: res.body.id, total: 10 });
    const none = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(none.body.callNow).toBeUndefined();
    expect(none.body.alert).toBeNull();
  });

  it('with consent, an alert reaches the care manager and the GP: score, trend and the item, not the diary', async () => {
    const consent = consentFor('permit', HEALTH, { purpose: TREAT, class: dataClasses('symptom-report') });
    expect((await as(PATIENT_KEY).post('/fhir/Consent', consent)).status).toBe(201);
    const cmBefore = alertsAt('/caremanager').length;
    const gpBefore = toGp().filter(
      (m) => (m.bundle.entry?.[0]?.resource as MessageHeader).eventCoding?.code === 'symptom-report-alert',
    ).length;
    const res = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 2, 2, 2, 2, 2, 1, 1]));
    expect(res.status).toBe(201);
    expect(res.body.score.total).toBe(18);
    expect(res.body.rulesFired.map((r: { rule: string }) => r.rule)).toEqual([
      'self-harm-answer',
      'severity-threshold',
    ]);
    expect(res.body.alert.sentTo.map((s: { role: string }) => s.role).sort()).toEqual(['care-manager', 'gp']);
    const cm = await until(() => alertsAt('/caremanager')[cmBefore], 'alert to care manager');
    await until(
      () =>
        toGp().filter(
          (m) => (m.bundle.entry?.[0]?.resource as MessageHeader).eventCoding?.code === 'symptom-report-alert',
        )[gpBefore],
      'alert to GP',
    );
    const resources = cm.bundle.entry?.map((e) => e.resource) ?? [];
    const issue = resources.find((r) => r?.resourceType === 'DetectedIssue') as DetectedIssue;
    expect(issue.code?.coding?.map((c) => c.code)).toEqual(['self-harm-answer', 'severity-threshold']);
    expect(issue.severity).toBe('high');
    const observations = resources.filter((r): r is Observation => r?.resourceType === 'Observation');
    // This report's total, the two earlier totals (the trend: 0 and 10) and item 9; no other item answers.
    expect(observations.map((o) => o.code.coding?.[0]?.code).sort()).toEqual([
      '44260-8',
      '44261-6',
      '44261-6',
      '44261-6',
    ]);
    expect(observations.filter((o) => o.code.coding?.[0]?.code === '44261-6').map((o) => o.valueInteger)).toEqual([
      18, 0, 10,
    ]);
    const problems = createFhirValidator()
      .validate(cm.bundle)
      .filter((i) => i.severity === 'error' || i.severity === 'fatal');
    expect(problems).toEqual([]);

    const disclosures = await as(PATIENT_KEY).get(`/patients/${PATIENT_CPR}/disclosures`).expect(200);
    expect(JSON.stringify(disclosures.body)).toContain('an alert from your symptom report');
  });

  it('the care manager subscribes like a GP and is notified of an alert addressed to it', async () => {
    const topic = `${CANONICAL_BASE}/SubscriptionTopic/symptom-report-alert`;
    const sub = await as(CM_KEY).post('/fhir/Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'Symptomalarmer for mine patienter',
      criteria: topic,
      channel: {
        type: 'rest-hook',
        endpoint: `${setup.gp.url}/cm-hook`,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: BACKPORT.payloadContent, valueCode: 'id-only' }] },
      },
    });
    expect(sub.status).toBe(201);
    const hook = () =>
      setup.gp.received.filter(
        (m) => m.path.startsWith('/cm-hook') && JSON.stringify(m.bundle).includes('event-notification'),
      );
    const before = hook().length;
    const res = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 3, 3, 2, 2, 2, 2, 0]));
    // 20 is above the threshold and 10 above the median (10) of the previous 18, 0 and 10.
    expect(res.body.rulesFired.map((r: { rule: string }) => r.rule)).toEqual(['severity-threshold', 'baseline-rise']);
    const note = await until(() => hook()[before], 'notification to the care manager');
    expect(JSON.stringify(note.bundle)).toContain(topic);
  });

  it('a rise of 5 over the patient’s own baseline alerts even below the severity threshold', async () => {
    // Three low reports make the baseline (median of the previous three) 3.
    for (const s of [3, 3, 3]) {
      await as(PATIENT_KEY)
        .post('/symptom-reports', phq9Response([s, 0, 0, 0, 0, 0, 0, 0, 0], PATIENT_CPR, '2026-11-29T09:00:00+01:00'))
        .expect(201);
    }
    const res = await as(PATIENT_KEY).post(
      '/symptom-reports',
      phq9Response([2, 2, 2, 1, 1, 0, 0, 0, 0], PATIENT_CPR, '2026-11-29T10:00:00+01:00'),
    );
    expect(res.body.score.total).toBe(8);
    expect(res.body.rulesFired.map((r: { rule: string }) => r.rule)).toEqual(['baseline-rise']);
    expect(res.body.alert.sentTo).toHaveLength(2);
  });

  it('the work list shows the patient with the newest score and open alerts; acknowledging closes one', async () => {
    const list = await as(CM_KEY).get('/care-manager/patients').expect(200);
    const entry = list.body.patients.find((p: { patient: { cpr: string } }) => p.patient.cpr === PATIENT_CPR);
    expect(entry.latestReport.total).toBe(8);
    expect(entry.openAlerts.length).toBeGreaterThanOrEqual(3);
    const first = entry.openAlerts[0].id as string;
    await as(CM_KEY).post(`/care-manager/alerts/${first}/$acknowledge`).expect(200);
    await as(CM_KEY).post(`/care-manager/alerts/${first}/$acknowledge`).expect(404);
    const after = await as(CM_KEY).get('/care-manager/patients').expect(200);
    const again = after.body.patients.find((p: { patient: { cpr: string } }) => p.patient.cpr === PATIENT_CPR);
    expect(again.openAlerts.map((a: { id: string }) => a.id)).not.toContain(first);
  });

  it('paused monitoring alerts no one, but a self-harm answer still tells the patient whom to call', async () => {
    expect((await as(PATIENT_KEY).post('/symptom-reports/$pause')).body).toEqual({ paused: true });
    const before = alertsAt('/caremanager').length;
    const res = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 3]));
    expect(res.status).toBe(201);
    expect(res.body.monitoringPaused).toBe(true);
    expect(res.body.alert).toBeNull();
    expect(res.body.callNow.contacts).toHaveLength(3);
    expect((await as(PATIENT_KEY).post('/symptom-reports/$resume')).body).toEqual({ paused: false });
    const resumed = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 0]));
    expect(resumed.body.alert.sentTo).toHaveLength(2);
    await until(() => (alertsAt('/caremanager').length === before + 1 ? true : undefined), 'resumed alert');
  });

  it('refuses a report with free text or an unknown item (400 naming it) and stores nothing', async () => {
    const before = (await as(PATIENT_KEY).get('/symptom-reports')).body.reports.length as number;
    const body = {
      ...phq9Response([0, 0, 0, 0, 0, 0, 0, 0, 0]),
      item: [{ linkId: 'diary', answer: [{ valueString: 'en dårlig dag' }] }],
    };
    const res = await as(PATIENT_KEY).post('/symptom-reports', body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['QuestionnaireResponse.item[0].linkId']);
    expect(res.body.issue[0].details.coding[0].code).toBe('unknown-link-id');
    expect((await as(PATIENT_KEY).get('/symptom-reports')).body.reports.length).toBe(before);
  });
});

describe('an alert goes ahead of routine traffic', () => {
  let setup: Setup;
  beforeAll(async () => {
    // One delivery at a time, so the order in which the receiver gets messages is the queue's order.
    setup = await setUp({ WORKER_CONCURRENCY: '1' });
  });
  afterAll(async () => {
    await setup.close();
  });

  it('queued behind a backlog of discharge letters, the alert is delivered first', async () => {
    const http = setup.t.http;
    await http
      .post('/fhir/Consent')
      .set('Authorization', `Bearer ${PATIENT_KEY}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(consentFor('permit', HEALTH, { purpose: TREAT, class: dataClasses('symptom-report') })))
      .expect(201);
    await setup.t.gateway.worker?.pause();
    for (let i = 0; i < 8; i++) {
      await http
        .post('/discharge-letters')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(nativeLetter())
        .expect(202);
    }
    const alert = await http
      .post('/symptom-reports')
      .set('Authorization', `Bearer ${PATIENT_KEY}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 3])));
    expect(alert.status).toBe(201);
    // Everything is in Redis, waiting, before the worker starts.
    await eventually(async () => {
      const rows = await setup.t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL',
      );
      return Number(rows[0]?.n) === 0 ? true : undefined;
    });
    await setup.t.gateway.worker?.resume();

    await setup.gp.waitFor(9, 20000);
    const kinds = [...setup.gp.unique.values()]
      .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime())
      .map((m) => (m.bundle.entry?.[0]?.resource as MessageHeader).eventCoding?.code);
    // The GP's alert first; the letters (and their copies to the care manager, none here: no care team) after.
    expect(kinds[0]).toBe('symptom-report-alert');
    expect(kinds.filter((k) => k === 'symptom-report-alert')).toHaveLength(1);
    expect(GP_SOR).toBeDefined();
  });
});

describe('a symptom alert for a GP system that takes only MedCom', () => {
  it('is not sent there (MedCom has no symptom alert) and the patient is told so; the care manager still gets it', async () => {
    const gp = await startMessageReceiver();
    const t = await startTestGateway();
    try {
      const post = (key: string, path: string, body: unknown) =>
        t.http
          .post(path)
          .set('Authorization', `Bearer ${key}`)
          .set('Content-Type', 'application/fhir+json')
          .send(JSON.stringify(body));
      // The GP's endpoint lists MedCom messages and the gateway's status-report messages, not symptom alerts.
      expect((await post(KEY.admin, '/fhir', directoryBundle(gp.url, { medcom: true }))).status).toBe(200);
      const cm = careManagerDirectory(CM_SOR, 'Opfølgningsteamet', `${gp.url}/caremanager`);
      expect((await post(KEY.admin, '/fhir', cm)).status).toBe(200);
      expect((await post(KEY.hospital, '/fhir/CareTeam', careTeam(CM_SOR))).status).toBe(201);
      const consent = consentFor('permit', HEALTH, { purpose: TREAT, class: dataClasses('symptom-report') });
      expect((await post(PATIENT_KEY, '/fhir/Consent', consent)).status).toBe(201);
      const res = await post(PATIENT_KEY, '/symptom-reports', phq9Response([3, 3, 2, 2, 2, 2, 2, 1, 1]));
      expect(res.status).toBe(201);
      expect(res.body.alert.sentTo.map((s: { role: string }) => s.role)).toEqual(['care-manager']);
      expect(res.body.alert.notSentTo).toEqual([{ role: 'gp', reason: expect.stringMatching(/only MedCom/) }]);
      await eventually(
        () => Promise.resolve(gp.received.some((m) => m.path.startsWith('/caremanager')) ? true : undefined),
        10000,
        'the alert at the care manager',
      );
      expect(gp.received.filter((m) => !m.path.startsWith('/caremanager'))).toEqual([]);
    } finally {
      await t.close();
      await gp.close();
    }
  });
});
