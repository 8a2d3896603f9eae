import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS, createClientRegistry } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  OTHER_GP_SOR,
  PATIENT_CPR,
  PATIENT_WITHOUT_GP_CPR,
  directoryBundle,
  municipalityAddress,
} from '../helpers/directory-fixture';
import { nativeLetter, sickLeaveCertificate } from '../helpers/fixtures';
import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * No oracles (issue 12, item 4): no answer tells a caller a directory fact or another organisation's record
 * it could not get by sending to that patient. `$convert` is for senders, answers every patient-side dead end
 * alike, shows the recipient only where the document could really go, and is audited; a sick-leave
 * certificate that overlaps another practice's names neither that certificate nor its period, and the attempt
 * is in the patient's log; a jobcentre cannot tell an unknown CPR number from a known one without consent.
 */
const OTHER_GP_KEY = 'other-gp-key-security-0001';
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')?.apiKey ?? '';
const UNKNOWN_CPR = '3112999999';
const day = (offset: number) => new Date(Date.now() + offset * 24 * 3600 * 1000).toISOString().slice(0, 10);

describe('security: no oracles', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/json') =>
      t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', type).send(JSON.stringify(body)),
  });
  const audits = (cpr: string, action: string) =>
    t.db.query<{ resource: { outcomeDesc?: string } }>(
      'SELECT resource FROM audit_events WHERE patient_cpr = $1 AND action = $2',
      [cpr, action],
    );
  const letterFor = (cpr: string) => ({ ...nativeLetter(), patient: { ...nativeLetter().patient, cpr } });
  const convert = (key: string, cpr: string) => as(key).post('/$convert', letterFor(cpr));
  const outcomeOf = (body: { parameter: Array<{ name: string; resource: unknown }> }) =>
    body.parameter.find((p) => p.name === 'outcome')?.resource as {
      issue: Array<{ diagnostics: string; details?: { coding?: Array<{ code: string }> } }>;
    };

  beforeAll(async () => {
    gp = await startMessageReceiver();
    t = await startTestGateway({
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
      .post('/fhir', directoryBundle(gp.url, { jobcentreAddress: `${gp.url}/jobcentre` }))
      .expect(200);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
  });

  it.each([
    ['employer', KEY.employer],
    ['patient', PATIENT_KEY],
    ['jobcentre', KEY.jobcentre],
  ])('refuses $convert to the %s role (403), naming no practice', async (_, key) => {
    const res = await convert(key, PATIENT_CPR);
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).not.toContain(GP_SOR);
    expect(JSON.stringify(res.body)).not.toContain(gp.url);
    expect(await audits(PATIENT_CPR, 'converted')).toEqual([]);
  });

  it('answers a sender alike for an unknown CPR number and a patient without a listed GP', async () => {
    const unknown = outcomeOf((await convert(KEY.hospital, UNKNOWN_CPR).expect(200)).body);
    const noGp = outcomeOf((await convert(KEY.hospital, PATIENT_WITHOUT_GP_CPR).expect(200)).body);
    const recipientIssue = (o: typeof unknown) =>
      o.issue.find((i) => i.details?.coding?.[0]?.code === 'recipient-not-resolved');
    expect(recipientIssue(unknown)).toBeDefined();
    expect(recipientIssue(unknown)).toEqual(recipientIssue(noGp));
    expect(JSON.stringify(unknown)).not.toContain('not known to the directory');
  });

  it('audits every dry run, and shows the recipient only where the document could go', async () => {
    const before = (await audits(PATIENT_CPR, 'converted')).length;
    const res = await convert(KEY.hospital, PATIENT_CPR).expect(200);
    expect(JSON.stringify(res.body)).toContain(gp.url);
    expect(await audits(PATIENT_CPR, 'converted')).toHaveLength(before + 1);

    // A patient who has denied the GP: the dry run must not tell the hospital which practice that is.
    const cpr = '0404904567';
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
    const deny = consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }, {}, cpr);
    await as(KEY.admin).post('/fhir/Consent', deny, 'application/fhir+json').expect(201);
    const denied = await convert(KEY.hospital, cpr).expect(200);
    expect(JSON.stringify(denied.body)).not.toContain(gp.url);
    expect(JSON.stringify(denied.body)).not.toContain(GP_SOR);
    expect(outcomeOf(denied.body).issue.map((i) => i.details?.coding?.[0]?.code)).toContain('consent-denied');
    expect(await audits(cpr, 'refused')).toHaveLength(1);
  });

  it("says of another practice's overlapping certificate only that it exists, and logs the attempt", async () => {
    const cpr = '1212901111';
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
      { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY },
      {
        purpose: purposes('sickness-benefit-follow-up'),
        class: dataClasses('sick-leave-minimal', 'functional-capacity', 'expected-duration'),
      },
      cpr,
    );
    await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    const period = { from: day(2), expectedTo: day(17) };
    const first = await as(KEY.gp).post('/sick-leave-certificates', sickLeaveCertificate(cpr, period));
    expect(first.status).toBe(202);
    const firstId = first.body.id as string;

    const second = await as(OTHER_GP_KEY).post(
      '/sick-leave-certificates',
      sickLeaveCertificate(
        cpr,
        { from: day(5), expectedTo: day(20) },
        { issuedBy: { name: 'Anders Berg', organization: { sor: OTHER_GP_SOR } } },
      ),
    );
    expect(second.status).toBe(422);
    expect(second.body.issue[0].details.coding[0].code).toBe('overlapping-period');
    const text = JSON.stringify(second.body);
    expect(text).not.toContain(firstId);
    expect(text).not.toContain(period.from);
    expect(text).not.toContain(period.expectedTo);
    const logged = await audits(cpr, 'refused');
    expect(logged.map((a) => a.resource.outcomeDesc)).toEqual([
      'refused at intake: the period overlaps a current certificate from another practice',
    ]);

    // The issuing practice itself is still told which of its certificates clashes, so it can correct it.
    const own = await as(KEY.gp).post(
      '/sick-leave-certificates',
      sickLeaveCertificate(cpr, { from: day(5), expectedTo: day(20) }),
    );
    expect(own.status).toBe(422);
    expect(JSON.stringify(own.body)).toContain(firstId);
    // Another practice's certificate id is answered like an id that does not exist.
    const guessed = await as(OTHER_GP_KEY).post(
      '/sick-leave-certificates',
      sickLeaveCertificate(
        cpr,
        { from: day(30), expectedTo: day(40) },
        { replaces: firstId, issuedBy: { name: 'Anders Berg', organization: { sor: OTHER_GP_SOR } } },
      ),
    );
    expect(guessed.status).toBe(422);
    expect(guessed.body.issue[0].details.coding[0].code).toBe('unknown-certificate');
  });

  it('answers a jobcentre alike for an unknown CPR number and a known patient without consent', async () => {
    const ask = (cpr: string) =>
      as(KEY.jobcentre).post('/status-report-requests', {
        patient: { cpr },
        questionSet: 'LAE125',
        reason: 'Borgeren er sygemeldt; vi planlægger en gradvis tilbagevenden til arbejdet.',
      });
    const unknown = await ask(UNKNOWN_CPR);
    const noGp = await ask(PATIENT_WITHOUT_GP_CPR);
    const known = await ask(PATIENT_CPR);
    for (const res of [unknown, noGp, known]) {
      expect(res.status).toBe(403);
      expect(res.body.issue[0].details.coding[0].code).toBe('consent-missing');
      expect(res.body.issue).toEqual(known.body.issue);
    }
    expect(JSON.stringify(known.body)).not.toContain(GP_SOR);
  });
});
