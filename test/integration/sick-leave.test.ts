import type { Bundle, Composition, Condition, MessageHeader } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import { startMessageReceiver, type MessageReceiver, type ReceivedMessage } from '../../scripts/fhir-message-receiver';
import { buildCertificateDocument } from '../../src/mappers/sick-leave/certificate-document';
import { COPY_TO_EMPLOYER } from '../../src/mappers/sick-leave/from-fhir';
import type { NativeSickLeaveCertificate } from '../../src/mappers/sick-leave/types';
import { SYSTEM } from '../../src/mappers/systems';
import { getDefaultValidator } from '../../src/validation';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { EMPLOYER_CVR, GP_SOR, JOBCENTRE_MUNICIPALITY, directoryBundle, municipalityAddress } from '../helpers/directory-fixture';
import { testContext } from '../helpers/mapping-context';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Sick-leave certificates end to end with real loopback endpoints for the jobcentre and the employer: each
 * recipient's view is checked on the payload it actually received.
 */
const JOBCENTRE = { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY };
const EMPLOYER = { system: SYSTEM.cvr, value: EMPLOYER_CVR };
const MINIMAL = ['sick-leave-minimal', 'functional-capacity', 'expected-duration'];
const day = (offset: number) => new Date(Date.now() + offset * 24 * 3600 * 1000).toISOString().slice(0, 10);
const errorsOf = (b: unknown) => getDefaultValidator().validate(b).filter((i) => i.severity === 'error' || i.severity === 'fatal');
const compositionOf = (m: ReceivedMessage) => m.bundle.entry?.[1]?.resource as Composition;
const header = (m: ReceivedMessage) => m.bundle.entry?.[0]?.resource as MessageHeader;

let nextCpr = 1000;
/** A fresh patient of the test GP in municipality 0101, so each test has its own periods and consents. */
const newCpr = () => `1111${String(nextCpr++).padStart(6, '0')}`;

function certificate(cpr: string, extra: Partial<NativeSickLeaveCertificate> = {}): NativeSickLeaveCertificate {
  return {
    patient: { cpr, name: { given: ['Mette'], family: 'Jensen' } },
    kind: 'first',
    period: { from: day(0), expectedTo: day(20) },
    incapacity: { degree: 'partial', hoursPerWeek: 15 },
    limitations: 'Kan ikke arbejde under tidspres; Moderat depressiv enkeltepisode gør koncentration svær.',
    canDo: 'Kan udføre rolige opgaver 3 timer om dagen.',
    gradualReturn: 'Start med 3 timer dagligt uden kundekontakt.',
    diagnosis: { code: 'F32.1', display: 'Moderat depressiv enkeltepisode' },
    clinicalNote: 'Samtaleterapi; sertralin startet.',
    issuedBy: { name: 'Lise Hansen', organization: { sor: GP_SOR, name: 'Lægerne i Testby' } },
    ...extra,
  };
}

describe('sick-leave certificates', () => {
  let jobcentre: MessageReceiver;
  let employer: MessageReceiver;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/json') => t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', type).send(JSON.stringify(body)),
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const at = (r: MessageReceiver, certificateId: string, status = 'final') =>
    eventually(() => Promise.resolve(r.received.find((m) => compositionOf(m).identifier?.value === certificateId && compositionOf(m).status === status)), 10000, `certificate ${certificateId} (${status})`);

  /** A patient with the consents a test needs: to the jobcentre (with extra classes) and to the employer. */
  async function patient(consents: { jobcentre?: string[]; employer?: boolean } = { jobcentre: [] }): Promise<string> {
    const cpr = newCpr();
    await as(KEY.admin)
      .post('/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM.cpr, value: cpr }], generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: GP_SOR } }], address: [municipalityAddress(JOBCENTRE_MUNICIPALITY)] }, request: { method: 'POST', url: 'Patient' } }] })
      .expect(200);
    if (consents.jobcentre) {
      const permit = consentFor('permit', JOBCENTRE, { purpose: purposes('sickness-benefit-follow-up'), class: dataClasses(...MINIMAL, ...consents.jobcentre) }, cpr);
      await as(KEY.jobcentre).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    }
    if (consents.employer) {
      const permit = consentFor('permit', EMPLOYER, { purpose: purposes('employer-certificate'), class: dataClasses(...MINIMAL) }, cpr);
      await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    }
    return cpr;
  }

  beforeAll(async () => {
    jobcentre = await startMessageReceiver();
    employer = await startMessageReceiver();
    t = await startTestGateway();
    await as(KEY.admin).post('/fhir', directoryBundle('http://127.0.0.1:9/unused', { jobcentreAddress: jobcentre.url, employerAddress: employer.url })).expect(200);
  });
  afterAll(async () => {
    await t.close();
    await jobcentre.close();
    await employer.close();
  });

  it('gives the jobcentre its view and the employer a copy without diagnosis, medication or clinical text', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }));
    expect(res.status).toBe(202);
    expect(res.body.messages).toHaveLength(2);
    const id = res.body.id as string;

    const toJobcentre = await at(jobcentre, id);
    const jc = JSON.stringify(toJobcentre.bundle);
    expect(jc).not.toContain('F32.1');
    expect(jc).not.toContain('sertralin');
    expect(jc).toContain('Kan udføre rolige opgaver');
    expect(compositionOf(toJobcentre).section?.map((s) => s.code?.coding?.[0]?.code)).toEqual(['work-incapacity', 'functional-capacity', 'withheld']);
    expect(errorsOf(toJobcentre.bundle)).toEqual([]);

    const toEmployer = await at(employer, id);
    const em = JSON.stringify(toEmployer.bundle);
    for (const forbidden of ['F32', 'Moderat depressiv', 'sertralin', 'Samtaleterapi', '"Condition"', '"MedicationStatement"', 'icd-10']) {
      expect(em).not.toContain(forbidden);
    }
    expect(em).toContain('[udeladt]');
    expect(compositionOf(toEmployer).meta?.profile).toEqual(['http://sektorbro.dk/fhir/StructureDefinition/sektorbro-employer-certificate']);
    expect(compositionOf(toEmployer).type.coding?.[0]?.code).toBe('employer-certificate');
    expect(errorsOf(toEmployer.bundle)).toEqual([]);
    expect(header(toEmployer).eventCoding?.code).toBe('sick-leave-certificate');
  });

  it('includes the ICD-10 diagnosis for the jobcentre only where the consent covers it', async () => {
    const cpr = await patient({ jobcentre: ['diagnosis'] });
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr));
    expect(res.status).toBe(202);
    const delivered = await at(jobcentre, res.body.id as string);
    const condition = delivered.bundle.entry?.find((e) => e.resource?.resourceType === 'Condition')?.resource as Condition;
    expect(condition.code?.coding?.[0]).toMatchObject({ system: SYSTEM.icd10, code: 'F32.1' });
    expect(JSON.stringify(delivered.bundle)).not.toContain('sertralin');
  });

  it('sends no employer copy without the patient\'s consent, and says so', async () => {
    const cpr = await patient({ jobcentre: [] });
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }));
    expect(res.status).toBe(202);
    expect(res.body.messages.map((m: { recipient: { system: string } }) => m.recipient.system)).toEqual([SYSTEM.municipality]);
    expect(res.body.outcome.issue.map((i: { details?: { coding: Array<{ code: string }> } }) => i.details?.coding[0]?.code)).toContain('employer-copy-withheld');
    const refused = await t.db.query("SELECT action FROM audit_events WHERE patient_cpr = $1 AND action = 'refused'", [cpr]);
    expect(refused).toHaveLength(1);
  });

  it('refuses a certificate the patient has not consented to send to the jobcentre (403), storing nothing', async () => {
    const cpr = await patient({});
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr));
    expect(res.status).toBe(403);
    expect(await t.db.query('SELECT id FROM certificates WHERE patient_cpr = $1', [cpr])).toEqual([]);
  });

  it('chains continuations and refuses overlapping periods', async () => {
    const cpr = await patient();
    const first = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { period: { from: day(0), expectedTo: day(10) } }));
    expect(first.status).toBe(202);
    const noOriginal = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { kind: 'continuation', period: { from: day(11), expectedTo: day(20) } }));
    expect(noOriginal.status).toBe(422);
    expect(noOriginal.body.issue[0].expression[0]).toBe('continues');
    const overlapping = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { kind: 'continuation', continues: first.body.id, period: { from: day(5), expectedTo: day(20) } }));
    expect(overlapping.status).toBe(422);
    expect(overlapping.body.issue[0].details.coding[0].code).toBe('overlapping-period');
    const next = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { kind: 'continuation', continues: first.body.id, period: { from: day(11), expectedTo: day(20) } }));
    expect(next.status).toBe(202);
    const delivered = await at(jobcentre, next.body.id as string);
    expect(compositionOf(delivered).relatesTo).toEqual([{ code: 'appends', targetIdentifier: { system: SYSTEM.documentId, value: first.body.id } }]);
  });

  it('delivers a correction to everyone who had the original, replacing it', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const original = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }));
    const id = original.body.id as string;
    await at(employer, id);
    // The correction names no recipients: it goes where the original went, and may overlap the original.
    const corrected = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { replaces: id, period: { from: day(0), expectedTo: day(27) } }));
    expect(corrected.status).toBe(202);
    expect(corrected.body.messages).toHaveLength(2);
    const newId = corrected.body.id as string;
    for (const r of [jobcentre, employer]) {
      const m = await at(r, newId);
      expect(compositionOf(m).relatesTo?.[0]).toEqual({ code: 'replaces', targetIdentifier: { system: SYSTEM.documentId, value: id } });
    }
    expect((await as(KEY.gp).get(`/sick-leave-certificates/${id}`)).body.status).toBe('replaced');
    const again = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { replaces: id }));
    expect(again.status).toBe(409);
  });

  it('cancels at every recipient (entered-in-error), once', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }));
    const id = res.body.id as string;
    expect((await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, {})).status).toBe(400);
    const cancelled = await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, { reason: 'Udstedt på forkert patient.' });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('entered-in-error');
    for (const r of [jobcentre, employer]) {
      const m = await at(r, id, 'entered-in-error');
      expect(JSON.stringify(m.bundle)).not.toContain('F32');
      expect(errorsOf(m.bundle)).toEqual([]);
    }
    expect((await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, { reason: 'igen' })).status).toBe(409);
    // The period is free again once cancelled.
    expect((await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr))).status).toBe(202);
  });

  it.each<[string, Partial<NativeSickLeaveCertificate>, number, string]>([
    ['a period that ends before it starts', { period: { from: day(5), expectedTo: day(1) } }, 422, 'period.expectedTo'],
    ['a start far back', { period: { from: day(-120), expectedTo: day(1) } }, 422, 'period.from'],
    ['a start far ahead', { period: { from: day(60), expectedTo: day(70) } }, 422, 'period.from'],
    ['a year and more', { period: { from: day(0), expectedTo: day(400) } }, 422, 'period.expectedTo'],
    ['a partial incapacity without how much', { incapacity: { degree: 'partial' } }, 422, 'incapacity'],
    ['a full incapacity with a percent', { incapacity: { degree: 'full', percent: 50 } }, 422, 'incapacity.degree'],
    ['a diagnosis that is not ICD-10', { diagnosis: { code: 'depression' } }, 400, 'diagnosis.code'],
    ['a date that is no date', { period: { from: '2026-02-30', expectedTo: day(1) } }, 400, 'period.from'],
    ['another practice as issuer', { issuedBy: { name: 'X', organization: { sor: '481201000016008' } } }, 403, ''],
    ['a continuation of an unknown certificate', { kind: 'continuation', continues: randomUUID() }, 422, 'continues'],
  ])('answers %s with an OperationOutcome naming the field', async (_name, change, status, field) => {
    const cpr = await patient();
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, change));
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    if (field) {
      expect(res.body.issue.map((i: { expression?: string[] }) => i.expression?.[0])).toContain(field);
    }
  });

  it('lets only GPs send, and only the issuer read', async () => {
    const cpr = await patient();
    expect((await as(KEY.jobcentre).post('/sick-leave-certificates', certificate(cpr))).status).toBe(403);
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr));
    expect((await as(KEY.hospital).get(`/sick-leave-certificates/${res.body.id as string}`)).status).toBe(403);
    expect((await as(KEY.admin).get(`/sick-leave-certificates/${res.body.id as string}`)).status).toBe(200);
  });

  it('takes the certificate as a FHIR document, with the employer copy named by extension', async () => {
    const cpr = await patient({ jobcentre: ['diagnosis', 'clinical-notes'], employer: true });
    const doc = buildCertificateDocument(certificate(cpr), { audience: 'jobcentre', disclose: ['diagnosis', 'clinical-notes'], status: 'final', id: 'GP-SYSTEM-0042' }, testContext());
    const composition = { ...doc.composition.resource, extension: [{ url: COPY_TO_EMPLOYER, valueIdentifier: EMPLOYER }] };
    delete composition.meta;
    const bundle: Bundle = { resourceType: 'Bundle', type: 'document', identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` }, timestamp: new Date().toISOString(), entry: [{ ...doc.entries[0], resource: composition }, ...doc.entries.slice(1)] };
    const res = await as(KEY.gp).post('/sick-leave-certificates', bundle, 'application/fhir+json');
    expect(res.status).toBe(202);
    expect(res.body.messages).toHaveLength(2);
    const toJobcentre = await at(jobcentre, res.body.id as string);
    expect(JSON.stringify(toJobcentre.bundle)).toContain('F32.1');
    expect(JSON.stringify(toJobcentre.bundle)).toContain('sertralin');
    const toEmployer = await at(employer, res.body.id as string);
    expect(JSON.stringify(toEmployer.bundle)).not.toContain('F32');
  });
});
