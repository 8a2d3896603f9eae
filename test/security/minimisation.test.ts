import type { MessageHeader, Questionnaire, Task } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver, type ReceivedMessage } from '../../scripts/fhir-message-receiver';
import { SYSTEM } from '../../src/mappers/systems';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  PATIENT_CPR,
  directoryBundle,
  municipalityAddress,
} from '../helpers/directory-fixture';
import { sickLeaveCertificate } from '../helpers/fixtures';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Minimisation by construction, tried as an attacker would (issue 12, items 3 and 4): with a consent that
 * covers neither diagnoses nor clinical notes, a marker string the GP's system slips into a status-report
 * answer must never reach the jobcentre's loopback receiver, whichever route it takes through the FHIR
 * QuestionnaireResponse; and a jobcentre cannot make a question about the diagnosis look harmless by labelling
 * it `functional-capacity`. Each smuggling attempt is refused with 400 naming the element, and after it a
 * clean answer is delivered, so the jobcentre's inbox for the request is complete when it is scanned.
 */
const MARKER = 'SMUGGLED-F32.1-MODERAT-DEPRESSION';
/** Clinical free text that names no coded term, so no term filter can catch it. */
const CLINICAL_NOTE = 'TIDLIGERE-PSYKOTISK-EPISODE-MARKER';
const JOBCENTRE = { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY };
const WORK_CAPACITY = 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-work-capacity';
const DURATION = 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-expected-duration';

const header = (m: ReceivedMessage) => m.bundle.entry?.[0]?.resource as MessageHeader;
const taskOf = (m: ReceivedMessage) =>
  (m.bundle.entry ?? []).map((e) => e.resource).find((r) => r?.resourceType === 'Task') as Task | undefined;

describe('security: what crosses to the jobcentre is built from checked values', () => {
  let gp: MessageReceiver;
  let jobcentre: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/json') =>
      t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', type).send(JSON.stringify(body)),
  });
  const inDays = (d: number) => new Date(Date.now() + d * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const request = async (body: Record<string, unknown>) => {
    const res = await as(KEY.jobcentre).post('/status-report-requests', {
      patient: { cpr: PATIENT_CPR },
      reason: 'Borgeren er sygemeldt; vi planlægger en gradvis tilbagevenden til arbejdet.',
      ...body,
    });
    expect(res.status).toBe(202);
    return res.body as { id: string; outcome: { issue: Array<{ details?: { coding?: Array<{ code: string }> } }> } };
  };
  const answer = (id: string, body: unknown, type = 'application/fhir+json') =>
    as(KEY.gp).post(`/status-report-requests/${id}/response`, body, type);
  /** Every message the jobcentre got about this request, once its answer has arrived. */
  const delivered = async (id: string) => {
    await eventually(
      () =>
        Promise.resolve(
          jobcentre.received.find(
            (m) => taskOf(m)?.id === id && header(m).eventCoding?.code === 'status-report-response',
          ),
        ),
      10000,
      'the answer at the jobcentre',
    );
    return jobcentre.received.filter((m) => taskOf(m)?.id === id);
  };
  const qr = (item: unknown[]) => ({ resourceType: 'QuestionnaireResponse', status: 'completed', item });
  const lae125 = {
    known: { linkId: 'patient-known', answer: [{ valueBoolean: true }] },
    health: { linkId: 'current-health', answer: [{ valueString: 'Moderat depression.' }] },
    treatment: { linkId: 'treatment', answer: [{ valueString: 'Samtaleterapi.' }] },
    limits: { linkId: 'work-relevant-limitations', answer: [{ valueString: 'Tåler ikke tidspres.' }] },
  };
  const lae285 = (capacity: Record<string, unknown>) => [
    { linkId: 'visit-date', answer: [{ valueDate: inDays(-1) }] },
    { linkId: 'health-status', answer: [{ valueString: 'Moderat depression.' }] },
    { linkId: 'work-capacity', answer: [{ valueCoding: capacity }] },
    { linkId: 'functional-limitations', answer: [{ valueString: 'Tåler ikke tidspres.' }] },
    { linkId: 'expected-duration', answer: [{ valueCoding: { system: DURATION, code: '4-8-weeks' } }] },
  ];

  beforeAll(async () => {
    gp = await startMessageReceiver();
    jobcentre = await startMessageReceiver();
    t = await startTestGateway();
    await as(KEY.admin)
      .post('/fhir', directoryBundle(gp.url, { jobcentreAddress: jobcentre.url }))
      .expect(200);
    // The citizen lets the jobcentre have functional capacity, duration and treatment in outline: no diagnoses,
    // no clinical notes. Recorded by an operator, so the test does not depend on who may record what.
    const permit = consentFor('permit', JOBCENTRE, {
      purpose: purposes('work-capacity-assessment', 'sickness-benefit-follow-up'),
      class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline'),
    });
    await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
    await jobcentre.close();
  });

  const routes: Array<[string, 'LAE125' | 'LAE285', unknown[], string]> = [
    [
      'an item with an unknown linkId wrapping a real answer',
      'LAE125',
      [lae125.known, lae125.health, { linkId: `note: ${MARKER}`, item: [lae125.treatment] }, lae125.limits],
      'QuestionnaireResponse.item[2].linkId',
    ],
    [
      'a valueCoding.display of its own beside the checked code',
      'LAE285',
      lae285({ system: WORK_CAPACITY, code: 'none', display: MARKER }),
      'QuestionnaireResponse.item[2].answer[0].valueCoding.display',
    ],
    [
      'a valueQuantity with a unit beside the checked value',
      'LAE125',
      [
        lae125.known,
        lae125.health,
        lae125.treatment,
        {
          linkId: 'work-relevant-limitations',
          answer: [{ valueString: 'x', valueQuantity: { value: 1, unit: MARKER } }],
        },
      ],
      'QuestionnaireResponse.item[3].answer[0].valueQuantity',
    ],
    [
      'an unknown nested item under an answer',
      'LAE125',
      [
        lae125.known,
        lae125.health,
        { linkId: 'treatment', answer: [{ valueString: 'Samtaleterapi.', item: [{ linkId: `note: ${MARKER}` }] }] },
        lae125.limits,
      ],
      'QuestionnaireResponse.item[2].answer[0].item[0].linkId',
    ],
  ];

  it.each(routes)(
    'refuses %s (400 naming the element); the marker never reaches the jobcentre',
    async (_, set, items, element) => {
      const { id } = await request({ questionSet: set, ...(set === 'LAE285' ? { deadline: inDays(10) } : {}) });
      const refused = await answer(id, qr(items));
      expect(refused.status).toBe(400);
      expect(refused.body.resourceType).toBe('OperationOutcome');
      expect(refused.body.issue.map((i: { expression?: string[] }) => i.expression?.[0])).toContain(element);
      // A clean answer goes through, so everything the jobcentre will ever get for this request is there to scan.
      const clean =
        set === 'LAE285'
          ? lae285({ system: WORK_CAPACITY, code: 'none' })
          : [lae125.known, lae125.health, lae125.treatment, lae125.limits];
      expect((await answer(id, qr(clean))).status).toBe(202);
      const messages = await delivered(id);
      expect(JSON.stringify(messages.map((m) => m.bundle))).not.toContain(MARKER);
      // The diagnosis the consent does not cover stays behind too.
      expect(JSON.stringify(messages.map((m) => m.bundle))).not.toContain('Moderat depression');
    },
  );

  const DIAGNOSIS_QUESTION = 'Hvilken diagnose (ICD-10) har borgeren? (Which diagnosis does the citizen have?)';

  it('does not let a jobcentre label its own diagnosis question functional-capacity (native request)', async () => {
    const requested = await request({
      questionSet: 'custom',
      deadline: inDays(10),
      questions: [{ text: DIAGNOSIS_QUESTION, type: 'text', required: true, dataClass: 'functional-capacity' }],
    });
    expect(
      (await answer(requested.id, { answers: { 'custom-1': `F32.1 ${MARKER}` } }, 'application/json')).status,
    ).toBe(202);
    const messages = await delivered(requested.id);
    expect(JSON.stringify(messages.map((m) => m.bundle))).not.toContain(MARKER);
    // The jobcentre is told which class its question counts as, and that its answer will be withheld.
    const codes = requested.outcome.issue.map((i) => i.details?.coding?.[0]?.code);
    expect(codes).toContain('data-class-assigned');
    expect(codes).toContain('answer-will-be-withheld');
  });

  it('does not let a jobcentre label its own diagnosis question functional-capacity (FHIR Task)', async () => {
    const questionnaire: Questionnaire = {
      resourceType: 'Questionnaire',
      id: 'q',
      status: 'active',
      item: [
        {
          linkId: 'dx',
          text: DIAGNOSIS_QUESTION,
          type: 'text',
          required: true,
          code: [{ system: SYSTEM.dataClass, code: 'functional-capacity' }],
        },
      ],
    };
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      description: 'Vi planlægger en gradvis tilbagevenden.',
      for: { identifier: { system: SYSTEM.cpr, value: PATIENT_CPR } },
      restriction: { period: { end: inDays(10) } },
      contained: [questionnaire],
      input: [
        {
          type: { coding: [{ system: SYSTEM.sdcTaskCodes, code: 'questionnaire' }] },
          valueReference: { reference: '#q' },
        },
      ],
    };
    const created = await as(KEY.jobcentre).post('/fhir/Task', task, 'application/fhir+json');
    expect(created.status).toBe(201);
    const id = (created.body as Task).id ?? '';
    const answered = await answer(id, qr([{ linkId: 'dx', answer: [{ valueString: `F32.1 ${MARKER}` }] }]));
    expect(answered.status).toBe(202);
    const messages = await delivered(id);
    expect(JSON.stringify(messages.map((m) => m.bundle))).not.toContain(MARKER);
  });

  it("does not pass the physician's free-text cancellation reason to a jobcentre whose consent does not cover clinical notes", async () => {
    const cpr = '1313901313';
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
              address: [municipalityAddress(JOBCENTRE_MUNICIPALITY)],
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
        purpose: purposes('sickness-benefit-follow-up'),
        class: dataClasses('sick-leave-minimal', 'functional-capacity', 'expected-duration'),
      },
      cpr,
    );
    await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    const issued = await as(KEY.gp).post(
      '/sick-leave-certificates',
      sickLeaveCertificate(cpr, { from: inDays(1), expectedTo: inDays(10) }),
    );
    expect(issued.status).toBe(202);
    const id = issued.body.id as string;
    const cancelled = await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, {
      reason: `Forkert patient; ${CLINICAL_NOTE} hører til en anden journal.`,
    });
    expect(cancelled.status).toBe(202);
    const notice = await eventually(
      () =>
        Promise.resolve(
          jobcentre.received.find((m) =>
            (m.bundle.entry ?? []).some(
              (e) =>
                e.resource?.resourceType === 'Composition' &&
                (e.resource as { status?: string; identifier?: { value?: string } }).status === 'entered-in-error' &&
                (e.resource as { identifier?: { value?: string } }).identifier?.value === id,
            ),
          ),
        ),
      10000,
      'the cancellation at the jobcentre',
    );
    expect(JSON.stringify(notice.bundle)).toContain('annulleret');
    expect(JSON.stringify(notice.bundle)).not.toContain(CLINICAL_NOTE);
  });

  it("does not pass the physician's free-text rejection reason to a jobcentre whose consent does not cover clinical notes", async () => {
    const { id } = await request({ questionSet: 'LAE125' });
    const rejected = await as(KEY.gp).post(`/status-report-requests/${id}/status`, {
      status: 'rejected',
      reason: `Kan ikke svare: ${CLINICAL_NOTE}.`,
    });
    expect(rejected.status).toBe(200);
    const notice = await eventually(
      () =>
        Promise.resolve(
          jobcentre.received.find(
            (m) => taskOf(m)?.id === id && header(m).eventCoding?.code === 'status-report-update',
          ),
        ),
      10000,
      'the rejection at the jobcentre',
    );
    expect(taskOf(notice)?.status).toBe('rejected');
    expect(JSON.stringify(notice.bundle)).not.toContain(CLINICAL_NOTE);
    const seen = await t.http.get(`/status-report-requests/${id}`).set('Authorization', `Bearer ${KEY.jobcentre}`);
    expect(seen.status).toBe(200);
    expect(JSON.stringify(seen.body)).not.toContain(CLINICAL_NOTE);
  });
});
