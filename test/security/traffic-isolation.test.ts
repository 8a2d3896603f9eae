import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, MessageHeader } from 'fhir/r4';
import { createClientRegistry, DEMO_CLIENTS } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  EMPLOYER_CVR,
  GP_SOR,
  HOSPITAL_SOR,
  JOBCENTRE_MUNICIPALITY,
  OTHER_GP_SOR,
  PATIENT_CPR,
} from '../helpers/directory-fixture';
import { nativeLetter, sickLeaveCertificate } from '../helpers/fixtures';
import { eventually, KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * Every party sees its own traffic and nothing else (GET /messages?side=, GET /messages/{id},
 * GET /fhir/Bundle/{id}): hostile readers try another organisation's ids, guessed ids, and a patient
 * filter on a patient whose messages went elsewhere.
 */
const OTHER_GP_KEY = 'other-gp-key-000000001';
const clients = createClientRegistry([
  ...DEMO_CLIENTS,
  {
    id: 'other-gp',
    apiKey: OTHER_GP_KEY,
    role: 'gp',
    organization: { system: SYSTEM.sor, value: OTHER_GP_SOR },
  },
]);
const MINIMAL = ['sick-leave-minimal', 'functional-capacity', 'expected-duration'];

interface Item {
  id: string;
  kind: string;
  status: string;
  sender: { clientId?: string; organization: { value: string }; name: string | null };
  patientCpr?: string;
  deliveries: Array<{
    id: string;
    recipient: { system: string; value: string; name: string | null };
    status: string;
    bundle?: string;
    endpoint?: string;
    timeline: Array<{ event: string; at: string }>;
  }>;
}

describe('every party sees its own traffic, and only its own', () => {
  let t: TestGateway;
  let close: () => Promise<void>;
  let letterId: string;
  let jobcentreMessageId: string;
  let employerMessageId: string;

  const as = (key: string) => ({
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const listed = async (key: string, query: string): Promise<Item[]> => {
    const res = await as(key).get(`/messages?${query}`);
    expect(res.status).toBe(200);
    return res.body.items as Item[];
  };
  const readsOf = (messageId: string) =>
    t.db.query<{ resource: AuditEvent }>(
      "SELECT resource FROM audit_events WHERE message_id = $1 AND action = 'read'",
      [messageId],
    );

  beforeAll(async () => {
    ({ t, close } = await startGatewayWithGp({ overrides: { clients } }));
    const letter = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(letter.status).toBe(202);
    letterId = letter.body.id as string;

    // A certificate to the jobcentre with a copy to the employer: a message to each.
    for (const [actor, purpose] of [
      [{ system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY }, 'sickness-benefit-follow-up'],
      [{ system: SYSTEM.cvr, value: EMPLOYER_CVR }, 'employer-certificate'],
    ] as const) {
      await t.http
        .post('/fhir/Consent')
        .set('Authorization', `Bearer ${KEY.admin}`)
        .set('Content-Type', 'application/fhir+json')
        .send(consentFor('permit', actor, { purpose: purposes(purpose), class: dataClasses(...MINIMAL) }))
        .expect(201);
    }
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 14 * 86400000).toISOString().slice(0, 10);
    const certificate = await t.http
      .post('/sick-leave-certificates')
      .set('Authorization', `Bearer ${KEY.gp}`)
      .send(sickLeaveCertificate(PATIENT_CPR, { from: today, expectedTo: later }, { employer: { cvr: EMPLOYER_CVR } }));
    expect(certificate.status).toBe(202);
    const messages = certificate.body.messages as Array<{ id: string; recipient: { value: string } }>;
    jobcentreMessageId = messages.find((m) => m.recipient.value === JOBCENTRE_MUNICIPALITY)!.id;
    employerMessageId = messages.find((m) => m.recipient.value === EMPLOYER_CVR)!.id;
    for (const id of [letterId, jobcentreMessageId, employerMessageId]) {
      await eventually(
        async () => {
          const r = await as(KEY.admin).get(`/messages/${id}`);
          return r.body.status === 'delivered' ? true : undefined;
        },
        15000,
        `message ${id} delivered`,
      );
    }
  });

  afterAll(async () => {
    await close();
  });

  it('lists what a client sent and what its organisation received, with timelines and a Bundle link', async () => {
    const sent = await listed(KEY.hospital, 'side=sent');
    expect(sent.map((i) => i.id)).toEqual([letterId]);
    expect(sent[0]?.deliveries[0]?.recipient.value).toBe(GP_SOR);

    const received = await listed(KEY.gp, 'side=received');
    const letter = received.find((i) => i.id === letterId);
    expect(letter).toBeDefined();
    expect(letter?.kind).toBe('discharge-letter');
    expect(letter?.sender.organization.value).toBe(HOSPITAL_SOR);
    expect(letter?.sender.name).toBeTruthy();
    expect(letter?.sender.clientId).toBeUndefined();
    expect(letter?.patientCpr).toBe(PATIENT_CPR);
    expect(letter?.deliveries).toHaveLength(1);
    const delivery = letter!.deliveries[0]!;
    expect(delivery.timeline.map((e) => e.event)).toEqual(['accepted', 'delivered']);
    expect(delivery.bundle).toBe(`${t.config.publicBaseUrl}/fhir/Bundle/${delivery.id}`);

    // The GP's own sending does not include what it received, and the hospital received nothing.
    expect((await listed(KEY.gp, 'side=sent')).map((i) => i.id).sort()).toEqual(
      [jobcentreMessageId, employerMessageId].sort(),
    );
    expect(await listed(KEY.hospital, 'side=received')).toEqual([]);
  });

  it('lets the recipient read the exact Bundle it received, and audits the read with the real sender', async () => {
    const [letter] = (await listed(KEY.gp, 'side=received&kind=discharge-letter')).filter((i) => i.id === letterId);
    const path = new URL(letter!.deliveries[0]!.bundle!).pathname;
    const before = (await readsOf(letterId)).length;
    const res = await as(KEY.gp).get(path);
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('message');
    expect((bundle.entry?.[0]?.resource as MessageHeader).resourceType).toBe('MessageHeader');
    expect(JSON.stringify(bundle)).toContain(GP_SOR);
    const reads = await readsOf(letterId);
    expect(reads).toHaveLength(before + 1);
    const read = reads[reads.length - 1]!.resource;
    expect(read.agent.find((a) => a.requestor)?.who?.identifier?.value).toBe(HOSPITAL_SOR);
    expect(read.agent.find((a) => !a.requestor)?.who?.identifier?.value).toBe(GP_SOR);
    // The read shows on the delivery's timeline.
    const again = await as(KEY.gp).get(`/messages/${letterId}`);
    expect(again.body.deliveries[0].timeline.map((e: { event: string }) => e.event)).toContain('read');
  });

  it("gives the jobcentre and the employer each its own certificate, never the other's", async () => {
    const jobcentre = await listed(KEY.jobcentre, 'side=received');
    const employer = await listed(KEY.employer, 'side=received');
    expect(jobcentre.map((i) => i.id)).toEqual([jobcentreMessageId]);
    expect(employer.map((i) => i.id)).toEqual([employerMessageId]);
    expect(jobcentre[0]?.sender.organization.value).toBe(GP_SOR);
    // The same through GET /messages/{id}: no endpoint, no intake outcome, only its own delivery.
    const one = await as(KEY.employer).get(`/messages/${employerMessageId}`);
    expect(one.status).toBe(200);
    expect(one.body.deliveries.map((d: Item['deliveries'][0]) => d.recipient.value)).toEqual([EMPLOYER_CVR]);
    expect(one.body.outcome).toBeUndefined();
    expect(one.body.deliveries[0].endpoint).toBeUndefined();
    expect((await as(KEY.employer).get(`/messages/${jobcentreMessageId}`)).status).toBe(404);
    expect((await as(KEY.jobcentre).get(`/messages/${employerMessageId}`)).status).toBe(404);
    // Each reads its own Bundle, and not the other's.
    const jobcentreDelivery = jobcentre[0]!.deliveries[0]!.id;
    const employerDelivery = employer[0]!.deliveries[0]!.id;
    expect((await as(KEY.employer).get(`/fhir/Bundle/${employerDelivery}`)).status).toBe(200);
    expect((await as(KEY.jobcentre).get(`/fhir/Bundle/${jobcentreDelivery}`)).status).toBe(200);
    const stolen = await as(KEY.employer).get(`/fhir/Bundle/${jobcentreDelivery}`);
    expect(stolen.status).toBe(404);
    expect(stolen.body.resourceType).toBe('OperationOutcome');
    expect((await as(KEY.jobcentre).get(`/fhir/Bundle/${employerDelivery}`)).status).toBe(404);
  });

  it("answers another organisation's ids with 404, as if they did not exist", async () => {
    const gpItem = (await listed(KEY.gp, 'side=received')).find((i) => i.id === letterId)!;
    const deliveryId = gpItem.deliveries[0]!.id;
    const reads = (await readsOf(letterId)).length;
    for (const key of [OTHER_GP_KEY, KEY.jobcentre, KEY.employer]) {
      expect((await as(key).get(`/messages/${letterId}`)).status).toBe(404);
      expect((await as(key).get(`/fhir/Bundle/${deliveryId}`)).status).toBe(404);
      expect((await as(key).get(`/fhir/Bundle/${letterId}`)).status).toBe(404);
    }
    // The sender follows its message but does not read the recipient's Bundle through the read route.
    expect((await as(KEY.hospital).get(`/fhir/Bundle/${deliveryId}`)).status).toBe(404);
    // A hostile attempt discloses nothing, so nothing is audited as read.
    expect(await readsOf(letterId)).toHaveLength(reads);
  });

  it('answers guessed ids with 404', async () => {
    for (const id of [randomUUID(), '00000000-0000-0000-0000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
      for (const key of [KEY.gp, OTHER_GP_KEY, KEY.employer]) {
        expect((await as(key).get(`/messages/${encodeURIComponent(id)}`)).status).toBe(404);
        expect((await as(key).get(`/fhir/Bundle/${encodeURIComponent(id)}`)).status).toBe(404);
      }
    }
  });

  it('finds nothing with a patient filter on a patient whose messages went to someone else', async () => {
    expect(await listed(OTHER_GP_KEY, `side=received&patient=${PATIENT_CPR}`)).toEqual([]);
    expect(await listed(OTHER_GP_KEY, `side=sent&patient=${PATIENT_CPR}`)).toEqual([]);
    expect(await listed(KEY.employer, `side=received&patient=${PATIENT_CPR}&kind=discharge-letter`)).toEqual([]);
    // The rightful recipient finds it by the same filter, in both notations.
    expect((await listed(KEY.gp, `side=received&patient=${PATIENT_CPR}`)).map((i) => i.id)).toContain(letterId);
    expect(
      (await listed(KEY.gp, `side=received&patient=${encodeURIComponent(`${SYSTEM.cpr}|${PATIENT_CPR}`)}`)).map(
        (i) => i.id,
      ),
    ).toContain(letterId);
  });

  it('refuses the list to patients and to a party that does not say which side, and bad parameters', async () => {
    const patientKey = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
    expect((await as(patientKey).get('/messages?side=received')).status).toBe(403);
    for (const query of [
      '',
      'side=everything',
      'side=received&status=bogus',
      'side=received&patient=123',
      'side=received&since=yesterday',
      'side=received&_count=0',
      'side=received&cursor=not-a-cursor',
      'side=received&side=sent',
    ]) {
      const res = await as(KEY.gp).get(`/messages?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].details.coding[0].code).toMatch(/^[a-z-]+$/);
    }
  });

  it('pages with a cursor, without repeating or skipping, filters by time and status', async () => {
    const first = await as(KEY.admin).get('/messages?_count=1');
    expect(first.body.items).toHaveLength(1);
    expect(typeof first.body.next).toBe('string');
    const second = await as(KEY.admin).get(`/messages?_count=1&cursor=${first.body.next as string}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const all = await as(KEY.admin).get('/messages?_count=500');
    expect(all.body.next).toBeUndefined();
    const future = new Date(Date.now() + 3600000).toISOString();
    expect(await listed(KEY.gp, `side=received&since=${future}`)).toEqual([]);
    expect(await listed(KEY.gp, 'side=received&status=dead')).toEqual([]);
    expect((await listed(KEY.gp, 'side=received&status=delivered')).map((i) => i.id)).toContain(letterId);
  });
});
