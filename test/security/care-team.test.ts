import { DEMO_CLIENTS, createClientRegistry } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import { consentFor, dataClasses } from '../helpers/consents';
import { PATIENT_CPR } from '../helpers/directory-fixture';
import { careManagerDirectory, careTeam, phq9Response } from '../helpers/symptom-reports';
import { KEY, startGatewayWithGp } from '../helpers/test-gateway';

/**
 * Care after discharge under attack (issue 18, item 4), with real clients of each role against a whole gateway:
 * a patient posting for another patient's CPR, clients that are not the patient posting at all, a care manager
 * reaching for a patient who is not on their team (work list, CareTeam, alerts), and a care manager trying to
 * loosen consent. Every refusal must leave nothing stored and nothing sent.
 */
const CM = DEMO_CLIENTS.find((c) => c.role === 'caremanager')!;
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
const OTHER_CM_SOR = '265161000016028';
const OTHER_CM_KEY = 'security-caremanager-key-02';
const OTHER_PATIENT_CPR = '1111901111';
const OTHER_PATIENT_KEY = 'security-patient-key-0003';
const HEALTH = { system: SYSTEM.sector, value: 'health' };
const TREAT = [{ system: SYSTEM.actReason, code: 'TREAT' }];

describe('security: symptom reports and care teams', () => {
  let setup: Awaited<ReturnType<typeof startGatewayWithGp>>;
  const as = (key: string) => ({
    post: (path: string, body?: unknown) =>
      setup.t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/fhir+json')
        .send(body === undefined ? '' : JSON.stringify(body)),
    get: (path: string) => setup.t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const count = async (table: string) =>
    Number((await setup.t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n);
  const codeOf = (body: { issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> }) =>
    body.issue?.[0]?.details?.coding?.[0]?.code;
  let careTeamId: string;

  beforeAll(async () => {
    setup = await startGatewayWithGp({
      overrides: {
        clients: createClientRegistry([
          ...DEMO_CLIENTS,
          {
            id: 'security-caremanager',
            apiKey: OTHER_CM_KEY,
            role: 'caremanager',
            organization: { system: SYSTEM.sor, value: OTHER_CM_SOR },
          },
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
    for (const [sor, path] of [
      [CM.organization.value, 'caremanager'],
      [OTHER_CM_SOR, 'other-caremanager'],
    ] as const) {
      await as(KEY.admin)
        .post('/fhir', careManagerDirectory(sor, `Team ${path}`, `${setup.gp.url}/${path}`))
        .expect(200);
    }
    const created = await as(KEY.hospital).post('/fhir/CareTeam', careTeam(CM.organization.value));
    expect(created.status).toBe(201);
    careTeamId = created.body.id as string;
    // The patient lets health care see the reports: what a hostile care manager would want to read.
    await as(PATIENT_KEY)
      .post('/fhir/Consent', consentFor('permit', HEALTH, { purpose: TREAT, class: dataClasses('symptom-report') }))
      .expect(201);
    const report = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 1]));
    expect(report.status).toBe(201);
    expect(report.body.alert.sentTo).toHaveLength(2);
  });
  afterAll(async () => {
    await setup.close();
  });

  it("a patient posting a report about another patient's CPR: 403 not-own-patient, nothing stored or sent", async () => {
    const reports = await count('symptom_reports');
    const messages = await count('messages');
    const res = await as(OTHER_PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 3]));
    expect(res.status).toBe(403);
    expect(codeOf(res.body)).toBe('not-own-patient');
    expect(JSON.stringify(res.body)).not.toContain(PATIENT_CPR);
    expect(await count('symptom_reports')).toBe(reports);
    expect(await count('messages')).toBe(messages);
  });

  it.each([
    ['hospital', KEY.hospital],
    ['gp', KEY.gp],
    ['caremanager', CM.apiKey],
    ['admin', KEY.admin],
    ['jobcentre', KEY.jobcentre],
  ])('a %s client posting a symptom report: 403, nothing stored', async (_role, key) => {
    const reports = await count('symptom_reports');
    const res = await as(key).post('/symptom-reports', phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 3]));
    expect(res.status).toBe(403);
    expect(await count('symptom_reports')).toBe(reports);
  });

  it('a care manager not on the team: not on its work list, the CareTeam is 404, the alert cannot be closed', async () => {
    const own = await as(CM.apiKey).get('/care-manager/patients').expect(200);
    const entry = own.body.patients.find((p: { patient: { cpr: string } }) => p.patient.cpr === PATIENT_CPR);
    expect(entry.latestReport.total).toBe(25);
    const alertId = entry.openAlerts[0].id as string;

    const other = await as(OTHER_CM_KEY).get('/care-manager/patients').expect(200);
    expect(other.body.patients).toEqual([]);
    expect((await as(OTHER_CM_KEY).get(`/fhir/CareTeam/${careTeamId}`)).status).toBe(404);
    expect((await as(OTHER_CM_KEY).get('/fhir/CareTeam/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await as(OTHER_CM_KEY).post(`/care-manager/alerts/${alertId}/$acknowledge`)).status).toBe(404);
    expect((await as(KEY.gp).get(`/fhir/CareTeam/${careTeamId}`)).status).toBe(403); // not a role that reads care teams
    expect((await as(OTHER_PATIENT_KEY).get(`/fhir/CareTeam/${careTeamId}`)).status).toBe(404);
    // The alert is still open for the care manager who is on the team.
    const still = await as(CM.apiKey).get('/care-manager/patients').expect(200);
    expect(still.body.patients[0].openAlerts.map((a: { id: string }) => a.id)).toContain(alertId);
  });

  it('a care manager cannot name itself: CareTeam and consents are recorded by others', async () => {
    expect((await as(OTHER_CM_KEY).post('/fhir/CareTeam', careTeam(OTHER_CM_SOR))).status).toBe(403);
    const self = consentFor(
      'permit',
      { system: SYSTEM.sor, value: OTHER_CM_SOR },
      { purpose: TREAT, class: dataClasses('symptom-report') },
    );
    expect((await as(OTHER_CM_KEY).post('/fhir/Consent', self)).status).toBe(403);
  });

  it("after the patient's deny for the care manager, the work list withholds scores and alerts, and no alert goes there", async () => {
    const deny = consentFor('deny', CM.organization, { class: dataClasses('symptom-report') });
    expect((await as(PATIENT_KEY).post('/fhir/Consent', deny)).status).toBe(201);
    const list = await as(CM.apiKey).get('/care-manager/patients').expect(200);
    expect(list.body.patients[0].latestReport).toBeNull();
    expect(list.body.patients[0].openAlerts).toEqual([]);
    expect(list.body.patients[0].withheld).toMatch(/symptom reports/);
    const res = await as(PATIENT_KEY).post('/symptom-reports', phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 3]));
    expect(res.body.alert.sentTo.map((s: { role: string }) => s.role)).toEqual(['gp']);
    expect(res.body.alert.notSentTo.map((s: { role: string }) => s.role)).toEqual(['care-manager']);
  });
});
