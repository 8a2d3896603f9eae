import type { Appointment, Bundle, CarePlan, Communication, MessageHeader } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { buildCareCommunication } from '../../src/mappers/medcom/care-communication';
import { SYSTEM } from '../../src/mappers/systems';
import { createFhirValidator } from '../../src/validation/fhir-validator';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  GP_GLN,
  GP_SOR,
  HOSPITAL_GLN,
  HOSPITAL_SOR,
  JOBCENTRE_MUNICIPALITY,
  PATIENT_CPR,
  directoryBundle,
} from '../helpers/directory-fixture';
import { careManagerDirectory, careTeam } from '../helpers/symptom-reports';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Issue 18, item 1 end to end on real Redis and the database: a MedCom GP endpoint (CareCommunication,
 * category carecoordination), a FHIR-native jobcentre endpoint (the gateway's own messages, an Appointment),
 * the care manager and the patient. Invitation, answers, booking, a change, the reminder (a BullMQ delayed
 * job), the plan (minimised for the jobcentre) and cancellation; and the hostile cases.
 */
const CM = DEMO_CLIENTS.find((c) => c.role === 'caremanager')!;
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
const HOUR = 3600_000;
const slot = (hoursAhead: number) => ({
  start: new Date(Date.now() + hoursAhead * HOUR).toISOString(),
  end: new Date(Date.now() + (hoursAhead + 1) * HOUR).toISOString(),
});
const header = (b: Bundle) => b.entry?.[0]?.resource as MessageHeader;
const focus = (b: Bundle) => b.entry?.find((e) => e.fullUrl === header(b).focus?.[0]?.reference)?.resource;
/** eventually() for a synchronous check. */
const until = <T>(check: () => T | undefined, ms = 15000, what = 'condition') =>
  eventually(() => Promise.resolve(check()), ms, what);

describe('planning meeting before discharge', () => {
  let receiver: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body?: unknown) =>
      t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/json')
        .send(body === undefined ? '' : JSON.stringify(body)),
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const at = (prefix: string) => receiver.received.filter((m) => m.path.startsWith(prefix));
  const toGp = () => receiver.received.filter((m) => m.path === '/$process-message');
  const request = (participants = ['gp', 'caseworker', 'care-manager', 'patient'], options = [slot(48), slot(72)]) => ({
    patient: { cpr: PATIENT_CPR },
    timeOptions: options,
    onlineLink: 'https://video.example.dk/moede/p3-4711',
    participants,
    organizer: { name: 'Anne Holm', role: 'overlæge', phone: '38643864' },
    reminderMinutesBefore: 15,
  });
  const answer = (id: string, participantStatus: string, extra: Record<string, unknown> = {}) => ({
    resourceType: 'AppointmentResponse',
    appointment: { reference: `Appointment/${id}` },
    participantStatus,
    ...extra,
  });

  beforeAll(async () => {
    receiver = await startMessageReceiver();
    t = await startTestGateway({ env: { REMINDER_RECONCILE_MS: '200' } });
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(
        directoryBundle(receiver.url, {
          medcom: true,
          jobcentreAddress: `${receiver.url}/jobcentre`,
          hospitalAddress: `${receiver.url}/hospital`,
        }),
      )
      .expect(200);
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(careManagerDirectory(CM.organization.value, 'Opfølgningsteamet', `${receiver.url}/caremanager`))
      .expect(200);
    await as(KEY.hospital).post('/fhir/CareTeam', careTeam(CM.organization.value)).expect(201);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('without the consent the jobcentre is not invited (and the refusal is in the disclosure log)', async () => {
    const res = await as(KEY.hospital).post('/planning-meetings', request());
    expect(res.status).toBe(201);
    const byRole = Object.fromEntries(
      (res.body.participants as Array<{ role: string; status: string; dialect: string | null }>).map((p) => [
        p.role,
        p,
      ]),
    );
    expect(byRole.caseworker).toMatchObject({ status: 'not-invited' });
    expect(byRole.gp).toMatchObject({ status: 'needs-action', dialect: 'medcom' });
    expect(byRole['care-manager']).toMatchObject({ status: 'needs-action', dialect: 'sektorbro' });
    // The jobcentre cannot read it, nor answer it: the same 404 as for an id that does not exist.
    await as(KEY.jobcentre)
      .get(`/planning-meetings/${res.body.id as string}`)
      .expect(404);
    const jcAnswer = await as(KEY.jobcentre).post(
      `/planning-meetings/${res.body.id as string}/responses`,
      answer(res.body.id as string, 'accepted'),
    );
    expect(jcAnswer.status).toBe(404);
    const log = await as(PATIENT_KEY).get(`/fhir/AuditEvent?patient=${PATIENT_CPR}`);
    expect(JSON.stringify(log.body)).toContain('not invited');
    await until(() => (at('/jobcentre').length === 0 && toGp().length > 0 ? true : undefined));
    expect(at('/jobcentre')).toHaveLength(0);
    await as(KEY.hospital)
      .post(`/planning-meetings/${res.body.id as string}/$cancel`)
      .expect(200);
  });

  it('invites the MedCom GP, the FHIR-native jobcentre and the care manager; answers, booking, change, reminder, plan', async () => {
    const permit = consentFor(
      'permit',
      { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY },
      { purpose: purposes('sickness-benefit-follow-up'), class: dataClasses('treatment-plan-outline') },
    );
    await t.http
      .post('/fhir/Consent')
      .set('Authorization', `Bearer ${PATIENT_KEY}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(permit))
      .expect(201);
    const gpBefore = toGp().length;
    const cmBefore = at('/caremanager').length;
    const created = await as(KEY.hospital).post('/planning-meetings', request());
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body.participants.map((p: { status: string }) => p.status)).toEqual([
      'needs-action',
      'needs-action',
      'needs-action',
      'needs-action',
    ]);

    // The GP speaks MedCom: a CareCommunication, category carecoordination, valid against the gateway's profiles.
    const toGpInvite = await until(() => toGp()[gpBefore], 15000, 'invitation to the GP');
    expect(header(toGpInvite.bundle).eventCoding?.code).toBe('care-communication-message');
    const communication = focus(toGpInvite.bundle) as Communication;
    expect(communication.category?.[0]?.coding?.[0]?.code).toBe('carecoordination');
    expect(communication.payload?.[0]?.contentString).toContain('https://video.example.dk/moede/p3-4711');
    // The jobcentre and the care manager take the gateway's own messages: an Appointment.
    const jc = await until(() => at('/jobcentre')[0], 15000, 'invitation to the jobcentre');
    expect(header(jc.bundle).eventCoding?.code).toBe('planning-meeting-invitation');
    const appointment = focus(jc.bundle) as Appointment;
    expect(appointment).toMatchObject({ resourceType: 'Appointment', id, status: 'proposed' });
    expect(appointment.requestedPeriod).toHaveLength(2);
    const validator = createFhirValidator();
    expect(validator.validate(jc.bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    await until(() => at('/caremanager')[cmBefore], 15000, 'invitation to the care manager');

    // The GP system answers the MedCom invitation with a reply CareCommunication: routed to the department and
    // recorded as the GP's answer (by letter: CareCommunication carries no participation status).
    const reply = buildCareCommunication(
      {
        messageHeaderId: randomUUID(),
        bundleId: randomUUID(),
        sender: { sor: GP_SOR, gln: GP_GLN, name: 'Lægerne i Testby' },
        receiver: { sor: HOSPITAL_SOR, gln: HOSPITAL_GLN, name: 'Psykiatrisk Center Testby', endpoint: 'x' },
        patient: { cpr: PATIENT_CPR, name: { family: 'Testesen', given: ['Test'] } },
        category: 'carecoordination',
        topic: 'Svar: planlægningsmøde',
        text: 'Vi deltager gerne i første tidsforslag.',
        attachments: [],
        author: { name: 'Peter Hansen', role: 'Praktiserende læge', contact: { system: 'phone', value: '33333333' } },
        writtenAt: new Date().toISOString(),
        replyTo: toGpInvite.bundle,
      },
      { now: new Date(), newId: randomUUID, gatewayEndpoint: 'http://gp.test' },
    );
    const ack = await t.http.post('/fhir/$process-message').set('Authorization', `Bearer ${KEY.gp}`).send(reply);
    expect(ack.status).toBe(200);
    expect(ack.body.entry[0].resource.response.code).toBe('ok');
    await until(() => at('/hospital')[0], 15000, 'the reply at the department');
    const afterReply = await as(KEY.hospital).get(`/planning-meetings/${id}`).expect(200);
    expect(afterReply.body.participants[0]).toMatchObject({ role: 'gp', answeredVia: 'care-communication' });

    // Answers: the GP accepts, the jobcentre proposes another time, the patient accepts.
    await as(KEY.gp).post(`/planning-meetings/${id}/responses`, answer(id, 'accepted')).expect(200);
    const other = slot(96);
    const tentative = await as(KEY.jobcentre).post(
      `/planning-meetings/${id}/responses`,
      answer(id, 'tentative', other),
    );
    expect(tentative.status).toBe(200);
    await as(PATIENT_KEY).post(`/planning-meetings/${id}/responses`, answer(id, 'accepted')).expect(200);
    // Everyone sees who has answered; only the organiser sees dialects and reasons.
    const seenByCm = await as(CM.apiKey).get(`/planning-meetings/${id}`).expect(200);
    expect(
      Object.fromEntries(seenByCm.body.participants.map((p: { role: string; status: string }) => [p.role, p.status])),
    ).toEqual({ gp: 'accepted', caseworker: 'tentative', 'care-manager': 'needs-action', patient: 'accepted' });
    expect(seenByCm.body.participants[0].dialect).toBeUndefined();

    // Booking the jobcentre's proposal; then moving it to the first option: confirmed, then changed.
    const jcBefore = at('/jobcentre').length;
    await as(KEY.hospital).post(`/planning-meetings/${id}/$book`, other).expect(200);
    const soon = { start: new Date(Date.now() + 16 * 60_000).toISOString(), end: '' };
    soon.end = new Date(Date.parse(soon.start) + HOUR).toISOString();
    // A time nobody offered is refused.
    const unoffered = await as(KEY.hospital).post(`/planning-meetings/${id}/$book`, soon);
    expect(unoffered.status).toBe(422);
    await as(KEY.hospital).post(`/planning-meetings/${id}/$book`, created.body.timeOptions[0]).expect(200);
    const updates = await until(
      () => (at('/jobcentre').length >= jcBefore + 2 ? at('/jobcentre').slice(jcBefore) : undefined),
      15000,
      'confirmation and change to the jobcentre',
    );
    expect(updates.map((u) => header(u.bundle).reason?.coding?.[0]?.code)).toEqual(['confirmed', 'changed']);
    expect(focus(updates[1]!.bundle) as Appointment).toMatchObject({ status: 'booked' });

    // The plan: the GP gets all of it as a CareCommunication, the jobcentre only the work point, as a CarePlan.
    const gpBeforePlan = toGp().length;
    const plan = await as(KEY.hospital).post(`/planning-meetings/${id}/plan`, {
      items: [
        { category: 'medication', description: 'Sertralin 100 mg fortsætter; vurderes efter 4 uger.', owner: 'gp' },
        { category: 'work', description: 'Gradvis tilbagevenden, 10 timer om ugen.', owner: 'caseworker' },
      ],
    });
    expect(plan.status).toBe(200);
    const jcPlan = await until(
      () => at('/jobcentre').find((m) => header(m.bundle).eventCoding?.code === 'planning-meeting-plan') ?? undefined,
      15000,
      'plan to the jobcentre',
    );
    const carePlan = focus(jcPlan.bundle) as CarePlan;
    expect(carePlan.activity?.map((a) => a.detail?.code?.coding?.[0]?.code)).toEqual(['work']);
    expect(JSON.stringify(jcPlan.bundle)).not.toContain('Sertralin');
    expect(validator.validate(jcPlan.bundle).filter((i) => i.severity === 'error')).toEqual([]);
    const gpPlan = await until(() => toGp()[gpBeforePlan], 15000, 'plan to the GP');
    expect(JSON.stringify(gpPlan.bundle)).toContain('Sertralin');
    // The care manager's work list shows the meeting with the patient.
    const work = await as(CM.apiKey).get('/care-manager/patients').expect(200);
    expect(JSON.stringify(work.body.patients[0].planningMeetings)).toContain(id);
    const jcView = await as(KEY.jobcentre).get(`/planning-meetings/${id}`).expect(200);
    expect(jcView.body.plan.items).toHaveLength(1);
    // Held: no more answers, bookings or plans.
    expect((await as(KEY.gp).post(`/planning-meetings/${id}/responses`, answer(id, 'declined'))).status).toBe(409);
  });

  it('a reminder goes out before the meeting (a delayed job), and a cancellation reaches everyone', async () => {
    const near = { start: new Date(Date.now() + 15 * 60_000 + 3000).toISOString(), end: '' };
    near.end = new Date(Date.parse(near.start) + HOUR).toISOString();
    const created = await as(KEY.hospital).post('/planning-meetings', request(undefined, [near]));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await as(KEY.hospital).post(`/planning-meetings/${id}/$book`, created.body.timeOptions[0]).expect(200);
    const reasons = () =>
      at('/jobcentre')
        .filter((m) => JSON.stringify(m.bundle).includes(id))
        .map((m) => header(m.bundle).reason?.coding?.[0]?.code ?? header(m.bundle).eventCoding?.code);
    await until(() => (reasons().includes('reminder') ? true : undefined), 20000, 'the reminder');
    const gpBefore = toGp().length;
    await as(KEY.hospital).post(`/planning-meetings/${id}/$cancel`).expect(200);
    await until(() => (reasons().includes('cancelled') ? true : undefined), 15000, 'cancellation');
    const gpCancel = await until(() => toGp()[gpBefore], 15000, 'cancellation to the GP');
    expect((focus(gpCancel.bundle) as Communication).payload?.[0]?.contentString).toContain('aflyst');
    await as(KEY.hospital).post(`/planning-meetings/${id}/$cancel`).expect(409);
  });

  it('refuses other roles, other organisations, guessed ids and bad input', async () => {
    const created = await as(KEY.hospital).post('/planning-meetings', request(['gp', 'patient']));
    const id = created.body.id as string;
    // Other roles may not propose; a GP may not book or cancel; an employer sees nothing.
    expect((await as(KEY.gp).post('/planning-meetings', request())).status).toBe(403);
    expect((await as(KEY.jobcentre).post('/planning-meetings', request())).status).toBe(403);
    expect((await as(KEY.gp).post(`/planning-meetings/${id}/$book`, created.body.timeOptions[0])).status).toBe(403);
    expect((await as(KEY.employer).get(`/planning-meetings/${id}`)).status).toBe(403);
    // The care manager was not wanted for this meeting: 404, like a guessed id.
    expect((await as(CM.apiKey).get(`/planning-meetings/${id}`)).status).toBe(404);
    expect((await as(KEY.gp).get('/planning-meetings/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await as(KEY.gp).get('/planning-meetings/1')).status).toBe(404);
    // The organiser does not answer its own invitation.
    expect((await as(KEY.hospital).post(`/planning-meetings/${id}/responses`, answer(id, 'accepted'))).status).toBe(
      403,
    );
    // Bad input: a past time, a non-https link, an unknown role, a comment, a wrong appointment, a tentative without time.
    const bad = async (body: unknown, field: string) => {
      const res = await as(KEY.hospital).post('/planning-meetings', body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain(field);
    };
    await bad({ ...request(), timeOptions: [slot(-2)] }, 'start');
    await bad({ ...request(), onlineLink: 'javascript:alert(1)' }, 'onlineLink');
    await bad({ ...request(), participants: ['employer'] }, 'participants');
    await bad({ ...request(), timeOptions: [{ start: slot(5).end, end: slot(5).start }] }, 'end');
    const unknownPatient = await as(KEY.hospital).post('/planning-meetings', {
      ...request(),
      patient: { cpr: '3112999999' },
    });
    expect(unknownPatient.status).toBe(422);
    const comment = await as(KEY.gp).post(
      `/planning-meetings/${id}/responses`,
      answer(id, 'accepted', { comment: 'x' }),
    );
    expect(comment.status).toBe(400);
    expect(JSON.stringify(comment.body)).toContain('AppointmentResponse.comment');
    const wrong = await as(KEY.gp).post(`/planning-meetings/${id}/responses`, answer('someone-else', 'accepted'));
    expect(wrong.status).toBe(400);
    const noTime = await as(KEY.gp).post(`/planning-meetings/${id}/responses`, answer(id, 'tentative'));
    expect(noTime.status).toBe(400);
    expect(JSON.stringify(noTime.body)).toContain('AppointmentResponse.start');
    // No half-stored meeting after bad input: the hospital's list has only the meetings it created.
    const list = await as(KEY.hospital).get('/planning-meetings').expect(200);
    expect(list.body.meetings.every((m: { patient: { cpr: string } }) => m.patient.cpr === PATIENT_CPR)).toBe(true);
  });
  it('the operator console shows meetings and alert deliveries, with masked CPR numbers and no link or plan', async () => {
    const page = await t.http.get('/console/care').set('Authorization', `Bearer ${KEY.admin}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Planning meetings');
    expect(page.text).toContain('Symptom alerts, last 24 hours');
    expect(page.text).toContain('010190-****');
    expect(page.text).toContain('fulfilled');
    expect(page.text).not.toContain(PATIENT_CPR);
    expect(page.text).not.toContain('video.example.dk');
    expect(page.text).not.toContain('Sertralin');
    expect((await t.http.get('/console/care').set('Authorization', `Bearer ${KEY.hospital}`)).status).toBe(403);
  });
});
