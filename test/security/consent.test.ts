import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent, Bundle, Consent, Parameters, Subscription } from 'fhir/r4';
import { DEMO_CLIENTS, createClientRegistry } from '../../src/auth/clients';
import { BACKPORT } from '../../src/mappers/subscription/backport';
import { SYSTEM } from '../../src/mappers/systems';
import { TOPICS } from '../../src/subscriptions/topics';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  EMPLOYER_CVR,
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  PATIENT_CPR,
  municipalityAddress,
} from '../helpers/directory-fixture';
import { sickLeaveCertificate } from '../helpers/fixtures';
import { KEY, eventually, startGatewayWithGp } from '../helpers/test-gateway';

/**
 * Consent under attack (issue 12, items 1, 2 and the consent half of 4), each as an attacker with a real client
 * of the role would try it, against a whole gateway (real Redis, real database, loopback receivers):
 * - an organisation named in a consent rewrites or withdraws it; an organisation re-activates what the patient
 *   withdrew; every change must be a version and in the patient's disclosure log;
 * - health-care clients record permits by shape ({type: permit}; an untyped nested provision; a treatment permit
 *   to a municipality); a jobcentre records its own permission without the citizen's signed consent;
 * - a GP the patient denied subscribes to that patient, or keeps getting events through an older subscription.
 */
const JOBCENTRE = { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY };
const EMPLOYER = { system: SYSTEM.cvr, value: EMPLOYER_CVR };
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
/** A second citizen-portal client, bound to another patient. */
const OTHER_PATIENT_CPR = '1111901111';
const OTHER_PATIENT_KEY = 'security-patient-key-0002';
const ENCOUNTERS = TOPICS.find((t) => t.kinds.includes('admission-notification'))!.url;
const STATUS_CLASSES = dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline');

describe('security: consent has an owner, a history, and permits only what its recorder may grant', () => {
  let setup: Awaited<ReturnType<typeof startGatewayWithGp>>;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/fhir+json') =>
      setup.t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', type)
        .send(typeof body === 'string' ? body : JSON.stringify(body)),
    put: (path: string, body: unknown) =>
      setup.t.http
        .put(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/fhir+json')
        .send(JSON.stringify(body)),
    delete: (path: string) => setup.t.http.delete(path).set('Authorization', `Bearer ${key}`),
    get: (path: string, accept = 'application/json') =>
      setup.t.http.get(path).set('Authorization', `Bearer ${key}`).set('Accept', accept),
  });
  /** A patient listed with the test GP, living in the jobcentre's municipality. */
  const newPatient = async (cpr = `3333${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`) => {
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
            request: { method: 'PUT', url: `Patient?identifier=${SYSTEM.cpr}|${cpr}` },
          },
        ],
      })
      .expect(200);
    return cpr;
  };
  const received = (path: string) => setup.gp.received.filter((m) => m.path.startsWith(path));
  const codeOf = (body: { issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> }) =>
    body.issue?.[0]?.details?.coding?.[0]?.code;
  const expressions = (body: { issue?: Array<{ expression?: string[] }> }) =>
    (body.issue ?? []).flatMap((i) => i.expression ?? []);

  beforeAll(async () => {
    setup = await startGatewayWithGp({
      overrides: {
        clients: createClientRegistry([
          ...DEMO_CLIENTS,
          {
            id: 'security-patient',
            apiKey: OTHER_PATIENT_KEY,
            role: 'patient',
            organization: { system: SYSTEM.cpr, value: 'citizen-portal' },
            patientCpr: OTHER_PATIENT_CPR,
          },
        ]),
      },
    });
    await newPatient(OTHER_PATIENT_CPR);
  });
  afterAll(async () => {
    await setup.close();
  });

  describe('item 1: only the owner changes or withdraws; every change is a version and in the log', () => {
    it("the issue's scenario: the jobcentre named in the patient's deny PUTs a permit incl. diagnosis and clinical notes: 404, the deny stays, the GP's answer never reaches the jobcentre", async () => {
      const own = consentFor('permit', JOBCENTRE, {
        purpose: purposes('work-capacity-assessment'),
        class: STATUS_CLASSES,
      });
      await as(KEY.jobcentre).post('/fhir/Consent', own).expect(201);
      const request = await as(KEY.jobcentre).post(
        '/status-report-requests',
        {
          patient: { cpr: PATIENT_CPR },
          questionSet: 'LAE125',
          reason: 'Borgeren er sygemeldt; vi planlægger en gradvis tilbagevenden.',
        },
        'application/json',
      );
      expect(request.status).toBe(202);

      const deny = await as(PATIENT_KEY).post('/fhir/Consent', consentFor('deny', JOBCENTRE));
      expect(deny.status).toBe(201);
      const denyId = deny.body.id as string;
      const rewrite = consentFor('permit', JOBCENTRE, {
        purpose: purposes('work-capacity-assessment', 'sickness-benefit-follow-up'),
        class: dataClasses(
          'functional-capacity',
          'expected-duration',
          'treatment-plan-outline',
          'diagnosis',
          'clinical-notes',
        ),
      });
      const put = await as(KEY.jobcentre).put(`/fhir/Consent/${denyId}`, { ...rewrite, id: denyId });
      expect(put.status).toBe(404);
      expect(put.body.resourceType).toBe('OperationOutcome');
      const withdraw = await as(KEY.jobcentre).delete(`/fhir/Consent/${denyId}`);
      expect(withdraw.status).toBe(404);
      expect(withdraw.body.resourceType).toBe('OperationOutcome');

      // Nothing changed: still the patient's deny, version 1, one version in its history.
      const after = await as(PATIENT_KEY).get(`/fhir/Consent/${denyId}`);
      expect(after.body).toMatchObject({ status: 'active', meta: { versionId: '1' }, provision: { type: 'deny' } });
      const history = await as(PATIENT_KEY).get(`/fhir/Consent/${denyId}/_history`);
      expect(history.status).toBe(200);
      expect(history.body.total).toBe(1);

      // The GP answers; the patient's objection stops it, and nothing of it is stored for or sent to the jobcentre.
      const answer = await as(KEY.gp).post(
        `/status-report-requests/${request.body.id as string}/response`,
        {
          answers: {
            'patient-known': true,
            'current-health': 'Moderat depression.',
            treatment: 'Samtaleterapi.',
            'work-relevant-limitations': 'Tåler ikke tidspres.',
          },
        },
        'application/json',
      );
      expect(answer.status).toBe(403);
      expect(codeOf(answer.body)).toBe('consent-denied');
      const stored = await setup.t.db.query(
        "SELECT id FROM messages WHERE kind = 'status-report' AND patient_cpr = $1",
        [PATIENT_CPR],
      );
      expect(stored).toEqual([]);
      expect(JSON.stringify(received('/jobcentre'))).not.toContain('Moderat depression');
      // Withdrawn by its owner, the patient, it is out of the way for what follows in this file.
      expect((await as(PATIENT_KEY).delete(`/fhir/Consent/${denyId}`)).status).toBe(200);
    });

    it('an organisation cannot re-activate or change what the patient withdrew: ownership passes to the patient', async () => {
      const permit = consentFor(
        'permit',
        JOBCENTRE,
        { purpose: purposes('work-capacity-assessment'), class: STATUS_CLASSES },
        OTHER_PATIENT_CPR,
      );
      const created = await as(KEY.jobcentre).post('/fhir/Consent', permit);
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect((await as(OTHER_PATIENT_KEY).delete(`/fhir/Consent/${id}`)).status).toBe(200);

      const revive = await as(KEY.jobcentre).put(`/fhir/Consent/${id}`, { ...permit, id, status: 'active' });
      expect(revive.status).toBe(404);
      expect((await as(KEY.jobcentre).delete(`/fhir/Consent/${id}`)).status).toBe(404);
      const now = await as(OTHER_PATIENT_KEY).get(`/fhir/Consent/${id}`);
      expect(now.body).toMatchObject({ status: 'inactive', meta: { versionId: '2' } });
    });

    it('decides per version who may read it: an organisation named only in an old version reads that one only', async () => {
      // v1 names the GP practice (health, TREAT); the patient's v2 names the jobcentre instead.
      const gpVersion = consentFor(
        'permit',
        { system: SYSTEM.sor, value: GP_SOR },
        { purpose: [{ system: SYSTEM.actReason, code: 'TREAT' }], class: dataClasses('discharge-letter') },
        OTHER_PATIENT_CPR,
      );
      const created = await as(OTHER_PATIENT_KEY).post('/fhir/Consent', gpVersion);
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const jobcentreVersion = consentFor(
        'permit',
        JOBCENTRE,
        { purpose: purposes('work-capacity-assessment'), class: STATUS_CLASSES },
        OTHER_PATIENT_CPR,
      );
      expect((await as(OTHER_PATIENT_KEY).put(`/fhir/Consent/${id}`, jobcentreVersion)).status).toBe(200);
      // The jobcentre, named now, does not read the version it was not party to, nor see it in the history.
      expect((await as(KEY.jobcentre).get(`/fhir/Consent/${id}/_history/1`)).status).toBe(404);
      expect((await as(KEY.jobcentre).get(`/fhir/Consent/${id}/_history/2`)).status).toBe(200);
      const jcHistory = (await as(KEY.jobcentre).get(`/fhir/Consent/${id}/_history`)).body as Bundle<Consent>;
      expect(jcHistory.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2']);
      // The GP practice, named only in v1, reads v1 and nothing newer.
      expect((await as(KEY.gp).get(`/fhir/Consent/${id}/_history/1`)).status).toBe(200);
      expect((await as(KEY.gp).get(`/fhir/Consent/${id}/_history/2`)).status).toBe(404);
      const gpHistory = (await as(KEY.gp).get(`/fhir/Consent/${id}/_history`)).body as Bundle<Consent>;
      expect(gpHistory.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['1']);
      // Neither named: nothing, as for a consent that does not exist. The patient and an admin read every version.
      expect((await as(KEY.hospital).get(`/fhir/Consent/${id}/_history/1`)).status).toBe(404);
      expect((await as(KEY.hospital).get(`/fhir/Consent/${id}/_history`)).status).toBe(404);
      for (const key of [OTHER_PATIENT_KEY, KEY.admin]) {
        const all = (await as(key).get(`/fhir/Consent/${id}/_history`)).body as Bundle<Consent>;
        expect(all.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
      }
    });

    it('keeps every version (history Bundle, vread) and writes who changed what to the patient log and page', async () => {
      const permit = consentFor(
        'permit',
        JOBCENTRE,
        { purpose: purposes('work-capacity-assessment'), class: STATUS_CLASSES },
        OTHER_PATIENT_CPR,
      );
      const created = await as(KEY.jobcentre).post('/fhir/Consent', permit);
      const id = created.body.id as string;
      expect(created.body.meta).toMatchObject({ versionId: '1' });
      // The owner narrows it; the patient narrows it further, then withdraws it.
      const v2 = await as(KEY.jobcentre).put(`/fhir/Consent/${id}`, {
        ...permit,
        provision: { ...permit.provision, period: { start: '2026-11-22', end: '2027-05-22' } },
      });
      expect(v2.status).toBe(200);
      expect(v2.body.meta.versionId).toBe('2');
      const v3 = await as(OTHER_PATIENT_KEY).put(`/fhir/Consent/${id}`, {
        ...permit,
        provision: { ...permit.provision, class: dataClasses('functional-capacity') },
      });
      expect(v3.status).toBe(200);
      expect((await as(OTHER_PATIENT_KEY).delete(`/fhir/Consent/${id}`)).body.meta.versionId).toBe('4');

      const history = await as(OTHER_PATIENT_KEY).get(`/fhir/Consent/${id}/_history`);
      expect(history.status).toBe(200);
      const bundle = history.body as Bundle<Consent>;
      expect(bundle.type).toBe('history');
      expect(bundle.entry?.map((e) => [e.resource?.meta?.versionId, e.request?.method, e.resource?.status])).toEqual([
        ['4', 'DELETE', 'inactive'],
        ['3', 'PUT', 'active'],
        ['2', 'PUT', 'active'],
        ['1', 'POST', 'active'],
      ]);
      const first = await as(KEY.jobcentre).get(`/fhir/Consent/${id}/_history/1`);
      expect(first.status).toBe(200);
      expect(first.body.provision.class).toHaveLength(3);
      expect(first.body.provision.period).toBeUndefined();
      expect((await as(KEY.jobcentre).get(`/fhir/Consent/${id}/_history/9`)).status).toBe(404);
      expect((await as(KEY.hospital).get(`/fhir/Consent/${id}/_history`)).status).toBe(404);
      expect((await as(KEY.hospital).get(`/fhir/Consent/${id}/_history/1`)).status).toBe(404);

      const log = await as(OTHER_PATIENT_KEY).get(`/patients/${OTHER_PATIENT_CPR}/disclosures`);
      const mine = (log.body.entries as Array<{ action: string; from: string; consent: string; note: string }>).filter(
        (e) => e.consent?.startsWith(`Consent/${id}/`),
      );
      expect(mine.map((e) => [e.action, e.from, e.consent])).toEqual([
        ['consent-withdrawn', 'you', `Consent/${id}/_history/4`],
        ['consent-changed', 'you', `Consent/${id}/_history/3`],
        ['consent-changed', 'demo-jobcentre (jobcentre)', `Consent/${id}/_history/2`],
        ['consent-recorded', 'demo-jobcentre (jobcentre)', `Consent/${id}/_history/1`],
      ]);
      expect(mine[1]?.note).toBe(
        'was: allows municipality 0101 to receive functional-capacity, expected-duration, treatment-plan-outline for work-capacity-assessment (2026-11-22 to 2027-05-22); now: allows municipality 0101 to receive functional-capacity for work-capacity-assessment',
      );
      // The patient's page lists each change as who did what (the change itself in words on the English page).
      const page = await as(OTHER_PATIENT_KEY).get(`/patients/${OTHER_PATIENT_CPR}/disclosures?lang=en`, 'text/html');
      expect(page.text).toContain('Consent recorded');
      expect(page.text).toContain(
        'allows municipality 0101 to receive functional-capacity, expected-duration, treatment-plan-outline for work-capacity-assessment',
      );
      expect(page.text).toContain('Consent withdrawn');
      const danish = await as(OTHER_PATIENT_KEY).get(`/patients/${OTHER_PATIENT_CPR}/disclosures`, 'text/html');
      expect(danish.text).toContain('Samtykke trukket tilbage');
      const events = await as(KEY.admin).get(`/fhir/AuditEvent?patient=${OTHER_PATIENT_CPR}`);
      const recorded = (events.body as Bundle<AuditEvent>).entry?.find(
        (e) => e.resource?.subtype?.[0]?.code === 'consent-recorded' && JSON.stringify(e.resource).includes(id),
      )?.resource;
      expect(recorded?.agent[0]?.who?.identifier).toEqual(JOBCENTRE);
      expect(recorded?.action).toBe('C');
    });
  });

  describe('item 2: who may record what is decided on what a consent permits', () => {
    it('a GP\'s bare {"type":"permit"} is refused (400 naming purpose and actor), and no certificate reaches the employer or the jobcentre', async () => {
      const cpr = await newPatient();
      const bare = { ...consentFor('permit', EMPLOYER, {}, cpr), provision: { type: 'permit' } };
      const res = await as(KEY.gp).post('/fhir/Consent', bare);
      expect(res.status).toBe(400);
      expect(expressions(res.body)).toEqual(['Consent.provision.purpose', 'Consent.provision.actor']);
      expect(await setup.t.db.query('SELECT id FROM consents WHERE patient_cpr = $1', [cpr])).toEqual([]);

      const today = new Date().toISOString().slice(0, 10);
      const later = new Date(Date.now() + 20 * 24 * 3600 * 1000).toISOString().slice(0, 10);
      const certificate = await as(KEY.gp).post(
        '/sick-leave-certificates',
        sickLeaveCertificate(cpr, { from: today, expectedTo: later }, { employer: { cvr: EMPLOYER_CVR } }),
        'application/json',
      );
      expect(certificate.status).toBe(403);
      expect(await setup.t.db.query('SELECT id FROM messages WHERE patient_cpr = $1', [cpr])).toEqual([]);
      expect(JSON.stringify([...received('/employer'), ...received('/jobcentre')])).not.toContain(cpr);
    });

    it('a nested provision without a type is refused (400 naming it), whatever the root says', async () => {
      const cpr = await newPatient();
      const trick = consentFor('deny', EMPLOYER, { class: dataClasses('diagnosis') }, cpr);
      trick.provision!.provision = [
        {
          actor: trick.provision!.actor,
          purpose: purposes('employer-certificate'),
          class: dataClasses('sick-leave-minimal', 'functional-capacity', 'expected-duration'),
        },
      ];
      for (const key of [KEY.gp, KEY.hospital, KEY.admin, PATIENT_KEY]) {
        const mine =
          key === PATIENT_KEY
            ? { ...trick, patient: { identifier: { system: SYSTEM.cpr, value: PATIENT_CPR } } }
            : trick;
        const res = await as(key).post('/fhir/Consent', mine);
        expect(res.status).toBe(400);
        expect(expressions(res.body)).toEqual(['Consent.provision.provision[0].type']);
        expect(codeOf(res.body)).toBe('provision-without-type');
      }
    });

    it('health-care clients may not record a permit to anyone outside health care (403 naming the actor)', async () => {
      const cpr = await newPatient();
      for (const [key, actor] of [
        [KEY.hospital, JOBCENTRE],
        [KEY.gp, EMPLOYER],
        [KEY.gp, { system: SYSTEM.sector, value: 'municipality' }],
      ] as const) {
        const res = await as(key).post(
          '/fhir/Consent',
          consentFor('permit', actor, { purpose: [{ system: SYSTEM.actReason, code: 'TREAT' }] }, cpr),
        );
        expect(res.status).toBe(403);
        expect(codeOf(res.body)).toBe('consent-not-allowed-for-role');
        expect(res.body.issue[0].diagnostics).toContain('Consent.provision.actor');
      }
      // What they may record still works: a treatment permit between health-care providers, and objections.
      expect(
        (
          await as(KEY.gp).post(
            '/fhir/Consent',
            consentFor(
              'permit',
              { system: SYSTEM.sector, value: 'health' },
              { purpose: [{ system: SYSTEM.actReason, code: 'TREAT' }] },
              cpr,
            ),
          )
        ).status,
      ).toBe(201);
      expect((await as(KEY.hospital).post('/fhir/Consent', consentFor('deny', JOBCENTRE, {}, cpr))).status).toBe(201);
    });

    it("a jobcentre's permission for itself needs the citizen's signed consent, names the classes, stays inside its grant, and the patient sees and withdraws it at once", async () => {
      const own = consentFor(
        'permit',
        JOBCENTRE,
        { purpose: purposes('sickness-benefit-follow-up'), class: dataClasses('sick-leave-minimal') },
        OTHER_PATIENT_CPR,
      );
      const noEvidence = { ...own };
      delete noEvidence.sourceAttachment;
      const refused = await as(KEY.jobcentre).post('/fhir/Consent', noEvidence);
      expect(refused.status).toBe(400);
      expect(codeOf(refused.body)).toBe('consent-evidence-missing');
      expect(expressions(refused.body)).toEqual(['Consent.sourceAttachment']);
      // An Attachment that carries nothing is no evidence either.
      const empty = await as(KEY.jobcentre).post('/fhir/Consent', { ...noEvidence, sourceAttachment: { title: 'x' } });
      expect(empty.status).toBe(400);

      const everything = { ...own, provision: { ...own.provision, class: undefined } };
      const noClass = await as(KEY.jobcentre).post('/fhir/Consent', everything);
      expect(noClass.status).toBe(403);
      expect(noClass.body.issue[0].diagnostics).toContain('Consent.provision.class');
      const letters = await as(KEY.jobcentre).post('/fhir/Consent', {
        ...own,
        provision: { ...own.provision, class: dataClasses('discharge-letter') },
      });
      expect(letters.status).toBe(403);

      const ok = await as(KEY.jobcentre).post('/fhir/Consent', own);
      expect(ok.status).toBe(201);
      const id = ok.body.id as string;
      const log = await as(OTHER_PATIENT_KEY).get(`/patients/${OTHER_PATIENT_CPR}/disclosures`);
      expect(log.body.entries).toContainEqual(
        expect.objectContaining({
          action: 'consent-recorded',
          from: 'demo-jobcentre (jobcentre)',
          consent: `Consent/${id}/_history/1`,
        }),
      );
      expect((await as(OTHER_PATIENT_KEY).get(`/fhir/Consent/${id}`)).body.sourceAttachment.url).toBe(
        own.sourceAttachment?.url,
      );
      const withdrawn = await as(OTHER_PATIENT_KEY).delete(`/fhir/Consent/${id}`);
      expect(withdrawn.status).toBe(200);
      expect(withdrawn.body.status).toBe('inactive');
    });
  });

  describe('item 4: a GP the patient denied cannot subscribe to that patient, and an older subscription stops', () => {
    const subscription = (endpoint: string, filter?: string): Subscription => ({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'Opdateringer om mine patienter',
      criteria: ENCOUNTERS,
      ...(filter ? { _criteria: { extension: [{ url: BACKPORT.filterCriteria, valueString: filter }] } } : {}),
      channel: {
        type: 'rest-hook',
        endpoint,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: BACKPORT.payloadContent, valueCode: 'id-only' }] },
      },
    });
    const notificationsTo = (path: string, type: string) =>
      received(path).filter((m) =>
        (m.bundle.entry?.[0]?.resource as Parameters | undefined)?.parameter?.some(
          (p) => p.name === 'type' && p.valueCode === type,
        ),
      );

    it('refuses a subscription to a patient who denied the practice (403 consent-denied), and logs it for the patient', async () => {
      const cpr = await newPatient();
      await as(KEY.admin)
        .post('/fhir/Consent', consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }, {}, cpr))
        .expect(201);
      const res = await as(KEY.gp).post(
        '/fhir/Subscription',
        subscription(`${setup.gp.url}/hook-denied`, `Patient?identifier=${SYSTEM.cpr}|${cpr}`),
      );
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(codeOf(res.body)).toBe('consent-denied');
      expect(await setup.t.db.query('SELECT id FROM subscriptions WHERE patient_cpr = $1', [cpr])).toEqual([]);
      const log = await setup.t.db.query("SELECT id FROM audit_events WHERE patient_cpr = $1 AND action = 'refused'", [
        cpr,
      ]);
      expect(log).toHaveLength(1);
    });

    it('sends an existing subscription no event, not even id-only, about a patient who has since denied the practice', async () => {
      const cpr = await newPatient();
      const created = await as(KEY.gp).post('/fhir/Subscription', subscription(`${setup.gp.url}/hook-older`));
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      await eventually(
        async () => ((await as(KEY.gp).get(`/fhir/Subscription/${id}`)).body.status === 'active' ? true : undefined),
        15000,
        'the subscription active',
      );
      await as(KEY.admin)
        .post('/fhir/Consent', consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }, {}, cpr))
        .expect(201);
      const adt = readFileSync(join(__dirname, '../fixtures/hl7v2/adt-a01.hl7'), 'utf8')
        .replace('0101901234', cpr)
        .replace('ADT-2026-0001', `ADT-SEC-${cpr}`);
      expect((await as(KEY.hospital).post('/hl7v2', adt, 'x-application/hl7-v2+er7')).status).toBe(202);
      await eventually(
        async () => {
          const rows = await setup.t.db.query(
            "SELECT id FROM audit_events WHERE patient_cpr = $1 AND action = 'blocked' AND resource::text LIKE $2",
            [cpr, `%Subscription/${id}%`],
          );
          return rows.length > 0 ? true : undefined;
        },
        15000,
        'the blocked event in the patient log',
      );
      expect(notificationsTo('/hook-older', 'event-notification')).toEqual([]);
      const events = await as(KEY.gp).get(`/fhir/Subscription/${id}/$events`);
      expect(events.status).toBe(200);
      const status = (events.body as Bundle).entry?.[0]?.resource as Parameters;
      expect(status.parameter?.filter((p) => p.name === 'notification-event')).toEqual([]);
    });
  });
});
