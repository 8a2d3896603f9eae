import type { Bundle, MessageHeader, Questionnaire, QuestionnaireResponse, Task } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver, type ReceivedMessage } from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS, createClientRegistry } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import { getDefaultValidator } from '../../src/validation';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  OTHER_GP_SOR,
  PATIENT_CPR,
  PATIENT_WITHOUT_GP_CPR,
  directoryBundle,
} from '../helpers/directory-fixture';
import { KEY, eventually, postAtOnce, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Status-report requests end to end, against real Redis, a real database and real loopback endpoints for
 * the GP and the jobcentre: request, receipt, acceptance, answer (checked and minimised), reminders and
 * their cancellation, late answers, follow-ups, work lists and who may see or touch what.
 */
const OTHER_GP_KEY = 'other-gp-key-000000001';
const JOBCENTRE = { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY };

const FHIR_VALIDATOR_ERRORS = (b: unknown) =>
  getDefaultValidator()
    .validate(b)
    .filter((i) => i.severity === 'error' || i.severity === 'fatal');
const arrival = <T>(find: () => T | undefined, timeoutMs: number, what: string) =>
  eventually(() => Promise.resolve(find()), timeoutMs, what);
const header = (m: ReceivedMessage) => m.bundle.entry?.[0]?.resource as MessageHeader;
const resources = <T>(b: Bundle, type: string) =>
  (b.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];
const taskOf = (m: ReceivedMessage) => resources<Task>(m.bundle, 'Task')[0]!;
const forTask = (r: MessageReceiver, taskId: string, event?: string, reason?: string) =>
  r.received.filter(
    (m) =>
      taskOf(m)?.id === taskId &&
      (!event || header(m).eventCoding?.code === event) &&
      (!reason || header(m).reason?.coding?.[0]?.code === reason),
  );

describe('status-report requests', () => {
  let gp: MessageReceiver;
  let jobcentre: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/json') =>
      t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', type).send(JSON.stringify(body)),
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const request = (body: Record<string, unknown> = {}) =>
    as(KEY.jobcentre).post('/status-report-requests', {
      patient: { cpr: PATIENT_CPR },
      questionSet: 'LAE125',
      reason: 'Borgeren er sygemeldt; vi planlægger en gradvis tilbagevenden til arbejdet.',
      ...body,
    });
  const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
  const fullAnswer = {
    answers: {
      'patient-known': true,
      'current-health': 'Moderat depression, i bedring.',
      treatment: 'Samtaleterapi hver 14. dag.',
      'work-relevant-limitations': 'Kan ikke tåle tidspres; kan arbejde 3 timer dagligt.',
      prognosis: 'Forventet bedring over 2-3 måneder.',
    },
  };

  beforeAll(async () => {
    gp = await startMessageReceiver();
    jobcentre = await startMessageReceiver();
    t = await startTestGateway({
      env: { STATUS_REPORT_REMIND_BEFORE_MS: '1000', REMINDER_RECONCILE_MS: '300' },
      overrides: {
        clients: createClientRegistry([
          ...DEMO_CLIENTS,
          {
            id: 'other-gp',
            apiKey: OTHER_GP_KEY,
            role: 'gp',
            organization: { system: SYSTEM.sor, value: OTHER_GP_SOR },
          },
        ]),
      },
    });
    await as(KEY.admin)
      .post('/fhir', directoryBundle(gp.url, { jobcentreAddress: jobcentre.url, otherGpAddress: `${gp.url}/other` }))
      .expect(200);
    const permit = consentFor('permit', JOBCENTRE, {
      purpose: purposes('work-capacity-assessment', 'sickness-benefit-follow-up'),
      class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline'),
    });
    await as(KEY.jobcentre).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
    await jobcentre.close();
  });

  it("refuses a request without the citizen's consent (403), storing nothing", async () => {
    await as(KEY.admin)
      .post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: SYSTEM.cpr, value: '0505905678' }],
              generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: GP_SOR } }],
            },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      })
      .expect(200);
    const res = await request({ patient: { cpr: '0505905678' } });
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.coding[0].code).toBe('consent-missing');
    expect(await t.db.query("SELECT id FROM tasks WHERE patient_cpr = '0505905678'")).toEqual([]);
  });

  it('runs the whole lifecycle: requested → received → accepted → in-progress → completed, the answer minimised to the consent', async () => {
    const res = await request({ caseworker: { name: 'Sara Sagsbehandler', phone: '+45 11 22 33 44' } });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('requested');
    const id = res.body.id as string;
    // Consent covers neither diagnoses nor clinical notes: the request says so up front.
    expect(JSON.stringify(res.body.outcome)).toContain('diagnosis');

    await arrival(() => forTask(gp, id, 'status-report-request')[0], 10000, 'the request at the GP');
    const delivered = forTask(gp, id, 'status-report-request')[0]!;
    const questionnaire = resources<{ item: Array<{ linkId: string }> }>(delivered.bundle, 'Questionnaire')[0]!;
    expect(questionnaire.item.map((i) => i.linkId)).toContain('patient-known');
    expect(taskOf(delivered).restriction?.period?.end).toBe(res.body.deadline);
    expect(new Date(res.body.deadline as string).getTime() - Date.now()).toBeGreaterThan(13 * 24 * 3600 * 1000);
    expect(FHIR_VALIDATOR_ERRORS(delivered.bundle)).toEqual([]);

    await eventually(
      async () =>
        (await as(KEY.gp).get(`/status-report-requests/${id}`)).body.status === 'received' ? true : undefined,
      10000,
      'received',
    );
    expect((await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'accepted' })).status).toBe(200);
    expect((await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'in-progress' })).status).toBe(200);

    const answered = await as(KEY.gp).post(`/status-report-requests/${id}/response`, {
      ...fullAnswer,
      physician: { name: 'Læge Lise' },
    });
    expect(answered.status).toBe(202);
    expect(answered.body.status).toBe('completed');

    await arrival(() => forTask(jobcentre, id, 'status-report-response')[0], 10000, 'the answer at the jobcentre');
    const report = forTask(jobcentre, id, 'status-report-response')[0]!;
    const qr = resources<QuestionnaireResponse>(report.bundle, 'QuestionnaireResponse')[0]!;
    const linkIds = qr.item!.map((i) => i.linkId);
    expect(linkIds).toEqual(
      expect.arrayContaining(['patient-known', 'treatment', 'work-relevant-limitations', 'prognosis']),
    );
    expect(linkIds).not.toContain('current-health');
    expect(JSON.stringify(report.bundle)).not.toContain('depression');
    expect(qr.meta?.security?.[0]?.code).toBe('REDACTED');
    expect(taskOf(report).status).toBe('completed');
    expect(taskOf(report).output?.[0]?.valueReference?.reference).toBe(`urn:uuid:${qr.id!}`);
    expect(FHIR_VALIDATOR_ERRORS(report.bundle)).toEqual([]);

    const detail = (await as(KEY.jobcentre).get(`/status-report-requests/${id}`)).body;
    expect(detail.history.map((h: { event: string }) => h.event)).toEqual([
      'requested',
      'received',
      'accepted',
      'in-progress',
      'answered',
    ]);
    expect(detail.reminders.every((r: { state: string }) => r.state === 'cancelled')).toBe(true);
    expect(detail.answeredLate).toBe(false);
    const audit = await t.db.query<{ action: string }>(
      "SELECT action FROM audit_events WHERE patient_cpr = $1 AND resource->>'outcomeDesc' IS NULL AND action = 'delivered'",
      [PATIENT_CPR],
    );
    expect(audit.length).toBeGreaterThanOrEqual(2);
  });

  it('checks the answer against the questionnaire: required items, types, unknown questions, and enableWhen', async () => {
    const id = (await request()).body.id as string;
    const missing = await as(KEY.gp).post(`/status-report-requests/${id}/response`, {
      answers: { 'patient-known': true, treatment: 'x' },
    });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body)).toContain('answers.work-relevant-limitations');
    const wrongType = await as(KEY.gp).post(`/status-report-requests/${id}/response`, {
      answers: { ...fullAnswer.answers, 'patient-known': 'yes' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.issue[0].expression[0]).toBe('answers.patient-known');
    const unknown = await as(KEY.gp).post(`/status-report-requests/${id}/response`, {
      answers: { ...fullAnswer.answers, favouriteColour: 'blue' },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('favouriteColour');
    expect((await as(KEY.gp).get(`/status-report-requests/${id}`)).body.status).not.toBe('completed');
    // "Patient not known": no other answer is required, and none may be given.
    const notKnown = await as(KEY.gp).post(`/status-report-requests/${id}/response`, {
      answers: { 'patient-known': false },
    });
    expect(notKnown.status).toBe(202);
  });

  it('takes a FHIR QuestionnaireResponse as the answer', async () => {
    const id = (await request()).body.id as string;
    const qr = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      item: Object.entries(fullAnswer.answers).map(([linkId, v]) => ({
        linkId,
        answer: [typeof v === 'boolean' ? { valueBoolean: v } : { valueString: v }],
      })),
    };
    const res = await as(KEY.gp).post(`/status-report-requests/${id}/response`, qr, 'application/fhir+json');
    expect(res.status).toBe(202);
  });

  it('refuses a FHIR answer with anything it did not check (nested, extension, contained), naming each element; the narrative is never carried', async () => {
    const id = (await request()).body.id as string;
    const secret = 'Svær depression med psykotiske træk';
    const items = [
      { linkId: 'patient-known', answer: [{ valueBoolean: true }] },
      { linkId: 'current-health', answer: [{ valueString: 'Moderat depression.' }] },
      { linkId: 'treatment', text: secret, answer: [{ valueString: 'Samtaleterapi.' }] },
      { linkId: 'work-relevant-limitations', answer: [{ valueString: 'Tåler ikke tidspres.' }] },
    ];
    const smuggling = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      contained: [
        {
          resourceType: 'Condition',
          id: 'c1',
          subject: { identifier: { system: SYSTEM.cpr, value: PATIENT_CPR } },
          code: { text: secret },
        },
      ],
      extension: [{ url: 'http://example.org/fhir/StructureDefinition/note', valueString: secret }],
      item: [
        items[0],
        items[1],
        // A diagnosis tucked under another answer, where a flat check would not look.
        {
          linkId: 'treatment',
          answer: [
            { valueString: 'Samtaleterapi.', item: [{ linkId: 'current-health', answer: [{ valueString: secret }] }] },
          ],
        },
        items[3],
      ],
    };
    const refused = await as(KEY.gp).post(`/status-report-requests/${id}/response`, smuggling, 'application/fhir+json');
    expect(refused.status).toBe(400);
    expect(refused.body.issue.map((i: { expression: string[] }) => i.expression[0]).sort()).toEqual([
      'QuestionnaireResponse.contained',
      'QuestionnaireResponse.extension',
      'QuestionnaireResponse.item[2].answer[0].item[0].linkId',
    ]);
    // The sender's own narrative and question texts are not refused (a conformant EHR writes them) but never carried.
    const res = await as(KEY.gp).post(
      `/status-report-requests/${id}/response`,
      {
        resourceType: 'QuestionnaireResponse',
        status: 'completed',
        text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${secret}</div>` },
        item: items,
      },
      'application/fhir+json',
    );
    expect(res.status).toBe(202);
    await arrival(() => forTask(jobcentre, id, 'status-report-response')[0], 10000, 'the answer at the jobcentre');
    const report = forTask(jobcentre, id, 'status-report-response')[0]!;
    expect(JSON.stringify(report.bundle)).not.toContain('psykotiske');
    expect(JSON.stringify(report.bundle)).not.toContain('Moderat depression');
    const sent = resources<QuestionnaireResponse>(report.bundle, 'QuestionnaireResponse')[0]!;
    expect(sent.item!.find((i) => i.linkId === 'treatment')?.answer?.[0]?.valueString).toBe('Samtaleterapi.');
    expect(FHIR_VALIDATOR_ERRORS(report.bundle)).toEqual([]);
  });

  it('reminds the GP before and at the deadline, tells the jobcentre it is overdue, and takes a late answer', async () => {
    const res = await request({ deadline: inSeconds(2.5) });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await arrival(() => forTask(gp, id, 'status-report-update', 'reminder')[0], 15000, 'reminder before the deadline');
    await arrival(() => forTask(gp, id, 'status-report-update', 'deadline')[0], 15000, 'reminder at the deadline');
    await arrival(() => forTask(jobcentre, id, 'status-report-update', 'overdue')[0], 15000, 'overdue notice');
    const overdue = (await as(KEY.jobcentre).get('/status-report-requests?side=requester&overdue=true')).body;
    expect(overdue.items.map((i: { id: string }) => i.id)).toContain(id);
    const fhir = (await as(KEY.gp).get(`/fhir/Task/${id}`)).body as Task;
    expect(fhir.businessStatus?.coding?.[0]?.code).toBe('overdue');

    const late = await as(KEY.gp).post(`/status-report-requests/${id}/response`, fullAnswer);
    expect(late.status).toBe(202);
    expect(JSON.stringify(late.body.outcome)).toContain('after the deadline');
    const detail = (await as(KEY.gp).get(`/status-report-requests/${id}`)).body;
    expect(detail.answeredLate).toBe(true);
    expect(detail.history.map((h: { event: string }) => h.event)).toEqual(
      expect.arrayContaining(['reminded', 'overdue', 'answered-late']),
    );
  });

  it('still marks a request overdue, tells the jobcentre, and lets it cancel when the physician has lost its endpoint', async () => {
    const res = await request({ addressee: { sor: OTHER_GP_SOR }, deadline: inSeconds(2.5) });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await arrival(() => forTask(gp, id, 'status-report-request')[0], 10000, 'the request at the other GP');
    // The practice leaves the network: its endpoint is switched off in the directory.
    await t.db.query("UPDATE endpoints SET status = 'off' WHERE address = $1", [`${gp.url}/other`]);
    try {
      await arrival(() => forTask(jobcentre, id, 'status-report-update', 'overdue')[0], 15000, 'overdue notice');
      const cancelled = await as(KEY.jobcentre).post(`/status-report-requests/${id}/status`, {
        status: 'cancelled',
        reason: 'Borgeren er raskmeldt.',
      });
      expect(cancelled.status).toBe(200);
      const detail = (await as(KEY.jobcentre).get(`/status-report-requests/${id}`)).body;
      expect(detail.status).toBe('cancelled');
      const undeliverable = detail.history
        .filter((h: { event: string }) => h.event === 'notice-undeliverable')
        .map((h: { note: string }) => h.note);
      expect(undeliverable).toEqual(
        expect.arrayContaining([expect.stringMatching(/^deadline notice/), expect.stringMatching(/^cancelled notice/)]),
      );
      expect(forTask(gp, id, 'status-report-update', 'deadline')).toHaveLength(0);
    } finally {
      await t.db.query("UPDATE endpoints SET status = 'active' WHERE address = $1", [`${gp.url}/other`]);
    }
  });

  it('cancels: the GP is told, reminders never go out, and an answer afterwards is a conflict', async () => {
    const res = await request({ deadline: inSeconds(2) });
    const id = res.body.id as string;
    expect((await as(KEY.jobcentre).post(`/status-report-requests/${id}/status`, { status: 'cancelled' })).status).toBe(
      400,
    );
    expect(
      (await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'cancelled', reason: 'x' })).status,
    ).toBe(403);
    const cancelled = await as(KEY.jobcentre).post(`/status-report-requests/${id}/status`, {
      status: 'cancelled',
      reason: 'Borgeren er raskmeldt.',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.reminders.map((r: { state: string }) => r.state)).toEqual(
      ['cancelled', 'cancelled'].slice(0, cancelled.body.reminders.length),
    );
    await arrival(() => forTask(gp, id, 'status-report-update', 'cancelled')[0], 10000, 'cancellation at the GP');
    const answer = await as(KEY.gp).post(`/status-report-requests/${id}/response`, fullAnswer);
    expect(answer.status).toBe(409);
    // Well past the deadline: no reminder and no overdue notice for a cancelled request.
    await new Promise((r) => setTimeout(r, 3000));
    expect(forTask(gp, id, 'status-report-update', 'reminder')).toEqual([]);
    expect(forTask(gp, id, 'status-report-update', 'deadline')).toEqual([]);
    expect(forTask(jobcentre, id, 'status-report-update', 'overdue')).toEqual([]);
  });

  it('refuses a status change the contract does not allow, naming the field', async () => {
    const id = (await request()).body.id as string;
    const completed = await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'completed' });
    expect(completed.status).toBe(400);
    expect(JSON.stringify(completed.body)).toContain('status');
    const noReason = await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'rejected' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.issue[0].expression).toEqual(['reason']);
  });

  it("lets the GP reject with a reason, which the jobcentre reads only where the citizen's consent covers clinical notes", async () => {
    const id = (await request()).body.id as string;
    expect((await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'rejected' })).status).toBe(400);
    const rejected = await as(KEY.gp).post(`/status-report-requests/${id}/status`, {
      status: 'rejected',
      reason: 'Patienten er ikke tilknyttet praksis.',
    });
    expect(rejected.status).toBe(200);
    const notice = await arrival(
      () => forTask(jobcentre, id, 'status-report-update', 'rejected')[0],
      10000,
      'rejection at the jobcentre',
    );
    // This citizen's consent covers no clinical notes: the physician's free text stays behind, everywhere.
    expect(taskOf(notice).statusReason?.text).toContain('Afvist af lægen');
    expect(JSON.stringify(notice.bundle)).not.toContain('tilknyttet');
    expect(JSON.stringify((await as(KEY.jobcentre).get(`/status-report-requests/${id}`)).body)).not.toContain(
      'tilknyttet',
    );
    expect((await as(KEY.gp).post(`/status-report-requests/${id}/status`, { status: 'accepted' })).status).toBe(409);

    const cpr = '0606906789';
    await as(KEY.admin)
      .post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: SYSTEM.cpr, value: cpr }],
              generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: GP_SOR } }],
            },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      })
      .expect(200);
    const permit = consentFor(
      'permit',
      JOBCENTRE,
      {
        purpose: purposes('work-capacity-assessment'),
        class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline', 'clinical-notes'),
      },
      cpr,
    );
    await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    const covered = (await request({ patient: { cpr } })).body.id as string;
    await as(KEY.gp)
      .post(`/status-report-requests/${covered}/status`, {
        status: 'rejected',
        reason: 'Patienten er ikke tilknyttet praksis.',
      })
      .expect(200);
    const told = await arrival(
      () => forTask(jobcentre, covered, 'status-report-update', 'rejected')[0],
      10000,
      'rejection at the jobcentre',
    );
    expect(taskOf(told).statusReason?.text).toBe('Patienten er ikke tilknyttet praksis.');
  });

  it('threads a follow-up onto an answered request, with the original answer at hand', async () => {
    const id = (await request()).body.id as string;
    const early = await as(KEY.jobcentre).post(`/status-report-requests/${id}/follow-up`, {
      questions: [
        { text: 'Kan borgeren tåle kundekontakt?', type: 'boolean', required: true, dataClass: 'functional-capacity' },
      ],
      reason: 'Opfølgning på jeres svar.',
    });
    expect(early.status).toBe(409);
    await as(KEY.gp).post(`/status-report-requests/${id}/response`, fullAnswer).expect(202);
    const follow = await as(KEY.jobcentre).post(`/status-report-requests/${id}/follow-up`, {
      questions: [
        { text: 'Kan borgeren tåle kundekontakt?', type: 'boolean', required: true, dataClass: 'functional-capacity' },
      ],
      reason: 'Opfølgning: vi overvejer en praktik i en butik.',
      deadline: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().slice(0, 10),
    });
    expect(follow.status).toBe(202);
    const followId = follow.body.id as string;
    const message = await arrival(
      () => forTask(gp, followId, 'status-report-request')[0],
      10000,
      'the follow-up at the GP',
    );
    expect(taskOf(message).partOf?.[0]?.reference).toBe(`Task/${id}`);
    const tasks = resources<Task>(message.bundle, 'Task');
    expect(tasks.map((x) => x.id)).toEqual([followId, id]);
    expect(resources<QuestionnaireResponse>(message.bundle, 'QuestionnaireResponse')).toHaveLength(1);
    expect((await as(KEY.jobcentre).get(`/status-report-requests/${id}`)).body.followUps).toEqual([followId]);
    const answered = await as(KEY.gp).post(`/status-report-requests/${followId}/response`, {
      answers: { 'follow-up-1': true },
    });
    expect(answered.status).toBe(202);
  });

  it('shows each side its work list, natively and as FHIR Task search', async () => {
    const id = (await request()).body.id as string;
    const gpRes = await as(KEY.gp).get('/status-report-requests?side=addressee&status=requested,received');
    expect(gpRes.status).toBe(200);
    const gpList = gpRes.body;
    expect(gpList.items.map((i: { id: string }) => i.id)).toContain(id);
    expect(gpList.items.every((i: { addressee: { value: string } }) => i.addressee.value === GP_SOR)).toBe(true);
    const jcList = (await as(KEY.jobcentre).get('/status-report-requests?side=requester')).body;
    expect(jcList.items.map((i: { id: string }) => i.id)).toContain(id);
    const search = (await as(KEY.gp).get(`/fhir/Task?owner=${SYSTEM.sor}|${GP_SOR}&status=requested,received`))
      .body as Bundle;
    expect(search.type).toBe('searchset');
    expect(search.entry?.map((e) => e.resource?.id)).toContain(id);
    expect((await as(KEY.gp).get(`/fhir/Task?owner=${OTHER_GP_SOR}`)).status).toBe(403);
    expect((await as(KEY.gp).get('/status-report-requests?status=waiting')).status).toBe(400);
  });

  it('keeps another organisation out: 404 to read, 404 to answer, 403 for the wrong role', async () => {
    const id = (await request()).body.id as string;
    expect((await as(OTHER_GP_KEY).get(`/status-report-requests/${id}`)).status).toBe(404);
    expect((await as(OTHER_GP_KEY).get(`/fhir/Task/${id}`)).status).toBe(404);
    const answer = await as(OTHER_GP_KEY).post(`/status-report-requests/${id}/response`, fullAnswer);
    expect(answer.status).toBe(404);
    expect(
      (await as(OTHER_GP_KEY).get('/status-report-requests')).body.items.map((i: { id: string }) => i.id),
    ).not.toContain(id);
    expect((await as(KEY.hospital).post('/status-report-requests', {})).status).toBe(403);
    expect((await as(KEY.jobcentre).post(`/status-report-requests/${id}/response`, fullAnswer)).status).toBe(403);
  });

  it('answers bad requests with the field: deadline passed, LÆ 285 without a deadline, a patient without a GP', async () => {
    const past = await request({ deadline: '2020-01-01' });
    expect(past.status).toBe(422);
    expect(past.body.issue[0].expression[0]).toBe('deadline');
    const lae285 = await request({ questionSet: 'LAE285', purpose: 'sickness-benefit-follow-up' });
    expect(lae285.status).toBe(422);
    expect(lae285.body.issue[0].details.coding[0].code).toBe('deadline-required');
    // Without the citizen's consent the jobcentre learns nothing from the directory (403, as for any CPR number);
    // with it, it is told that the citizen has no GP to ask.
    expect((await request({ patient: { cpr: PATIENT_WITHOUT_GP_CPR } })).status).toBe(403);
    const permit = consentFor(
      'permit',
      JOBCENTRE,
      {
        purpose: purposes('work-capacity-assessment'),
        class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline'),
      },
      PATIENT_WITHOUT_GP_CPR,
    );
    await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    const noGp = await request({ patient: { cpr: PATIENT_WITHOUT_GP_CPR } });
    expect(noGp.status).toBe(422);
    expect(noGp.body.issue[0].details.coding[0].code).toBe('no-listed-gp');
    const bad = await as(KEY.jobcentre).post('/status-report-requests', {
      patient: { cpr: '123' },
      questionSet: 'LAE999',
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('patient.cpr');
  });

  it('takes a FHIR Task with a contained Questionnaire, and de-duplicates on Idempotency-Key', async () => {
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      description: 'Vi har brug for at vide, hvor mange timer borgeren kan arbejde.',
      for: { identifier: { system: SYSTEM.cpr, value: PATIENT_CPR } },
      restriction: { period: { end: inSeconds(7 * 24 * 3600) } },
      contained: [
        {
          resourceType: 'Questionnaire',
          id: 'q',
          status: 'active',
          item: [
            {
              linkId: 'hours',
              text: 'Hvor mange timer om ugen kan borgeren arbejde?',
              type: 'integer',
              required: true,
              code: dataClasses('functional-capacity'),
            },
          ],
        } as Questionnaire,
      ],
      input: [
        {
          type: { coding: [{ system: SYSTEM.sdcTaskCodes, code: 'questionnaire' }] },
          valueReference: { reference: '#q' },
        },
      ],
    };
    const created = await as(KEY.jobcentre)
      .post('/fhir/Task', task, 'application/fhir+json')
      .set('Idempotency-Key', 'task-1');
    expect(created.status).toBe(201);
    expect(created.body.resourceType).toBe('Task');
    const again = await as(KEY.jobcentre)
      .post('/fhir/Task', task, 'application/fhir+json')
      .set('Idempotency-Key', 'task-1');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    const answer = await as(KEY.gp).post(`/status-report-requests/${created.body.id as string}/response`, {
      answers: { hours: 15 },
    });
    expect(answer.status).toBe(202);
  });

  it('makes one request of four sent at once with one Idempotency-Key, and answers all four with it', async () => {
    const key = `race-${Date.now()}`;
    const answers = await postAtOnce(
      t.gateway,
      4,
      '/status-report-requests',
      { authorization: `Bearer ${KEY.jobcentre}`, 'content-type': 'application/json', 'idempotency-key': key },
      JSON.stringify({
        patient: { cpr: PATIENT_CPR },
        questionSet: 'LAE125',
        reason: 'Samme anmodning, sendt fire gange.',
      }),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const stored = await t.db.query('SELECT id FROM tasks WHERE idempotency_key = $1', [key]);
    expect(stored).toHaveLength(1);
  });
});

describe('status-report reminders across a restart', () => {
  it('fire after the gateway restarts and Redis lost them', async () => {
    const gp = await startMessageReceiver();
    const jobcentre = await startMessageReceiver();
    const first = await startTestGateway({
      env: { STATUS_REPORT_REMIND_BEFORE_MS: '0', REMINDER_RECONCILE_MS: '200' },
    });
    const { db } = first;
    const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
    await first.http
      .post('/fhir')
      .set(auth(KEY.admin))
      .send(directoryBundle(gp.url, { jobcentreAddress: jobcentre.url }))
      .expect(200);
    await first.http
      .post('/fhir/Consent')
      .set(auth(KEY.jobcentre))
      .set('Content-Type', 'application/fhir+json')
      .send(
        JSON.stringify(
          consentFor('permit', JOBCENTRE, {
            purpose: purposes('work-capacity-assessment'),
            class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline'),
          }),
        ),
      )
      .expect(201);
    const res = await first.http
      .post('/status-report-requests')
      .set(auth(KEY.jobcentre))
      .send({
        patient: { cpr: PATIENT_CPR },
        questionSet: 'LAE125',
        reason: 'Vi planlægger en gradvis tilbagevenden.',
        deadline: new Date(Date.now() + 4000).toISOString(),
      });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await first.gateway.reminders.queue.obliterate({ force: true });
    await first.gateway.close();

    const second = await startTestGateway({
      db,
      env: {
        QUEUE_PREFIX: first.config.queuePrefix,
        STATUS_REPORT_REMIND_BEFORE_MS: '0',
        REMINDER_RECONCILE_MS: '200',
      },
    });
    try {
      await arrival(
        () => forTask(jobcentre, id, 'status-report-update', 'overdue')[0],
        15000,
        'overdue notice after restart',
      );
      // The two go out on separate deliveries: either may arrive first.
      await arrival(
        () => forTask(gp, id, 'status-report-update', 'deadline')[0],
        15000,
        'deadline reminder after restart',
      );
      expect(forTask(gp, id, 'status-report-update', 'deadline')).toHaveLength(1);
    } finally {
      await second.close();
      await db.close();
      await gp.close();
      await jobcentre.close();
    }
  });
});
