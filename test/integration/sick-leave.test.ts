import type { Bundle, Composition, Condition, Endpoint, MessageHeader, Organization, Practitioner } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMessageReceiver, type MessageReceiver, type ReceivedMessage } from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { buildCertificateDocument } from '../../src/mappers/sick-leave/certificate-document';
import { COPY_TO_EMPLOYER } from '../../src/mappers/sick-leave/from-fhir';
import type { NativeSickLeaveCertificate } from '../../src/mappers/sick-leave/types';
import { SYSTEM } from '../../src/mappers/systems';
import { getDefaultValidator } from '../../src/validation';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  EMPLOYER_CVR,
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  OTHER_GP_SOR,
  directoryBundle,
  municipalityAddress,
} from '../helpers/directory-fixture';
import { sickLeaveCertificate } from '../helpers/fixtures';
import { testContext } from '../helpers/mapping-context';
import { KEY, eventually, postAtOnce, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Sick-leave certificates end to end with real loopback endpoints for the jobcentre and the employer: each
 * recipient's view is checked on the payload it actually received.
 */
const JOBCENTRE = { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY };
const EMPLOYER = { system: SYSTEM.cvr, value: EMPLOYER_CVR };
/** A second jobcentre and employer, for corrections that name other recipients than the original had. */
const OTHER_MUNICIPALITY = '0147';
const OTHER_EMPLOYER_CVR = '87654321';
/** An employer whose directory endpoint a test switches off after it got a certificate. */
const VANISHING_CVR = '11223344';
const VANISHING_ENDPOINT_ID = 'ep-vanishing-employer';
/** A second GP practice with its own client, to try correcting the first one's certificates. */
const OTHER_GP_KEY = 'other-gp-key-000000000001';
const MINIMAL = ['sick-leave-minimal', 'functional-capacity', 'expected-duration'];
const day = (offset: number) => new Date(Date.now() + offset * 24 * 3600 * 1000).toISOString().slice(0, 10);
const errorsOf = (b: unknown) =>
  getDefaultValidator()
    .validate(b)
    .filter((i) => i.severity === 'error' || i.severity === 'fatal');
const compositionOf = (m: ReceivedMessage) => m.bundle.entry?.[1]?.resource as Composition;
const sectionCodes = (m: ReceivedMessage) => compositionOf(m).section?.map((s) => s.code?.coding?.[0]?.code);
const fieldsOf = (body: { issue: Array<{ expression?: string[] }> }) => body.issue.map((i) => i.expression?.[0]);
const detailCodes = (body: { issue: Array<{ details?: { coding?: Array<{ code?: string }> } }> }) =>
  body.issue.map((i) => i.details?.coding?.[0]?.code);
const header = (m: ReceivedMessage) => m.bundle.entry?.[0]?.resource as MessageHeader;

let nextCpr = 1000;
/** A fresh patient of the test GP in municipality 0101, so each test has its own periods and consents. */
const newCpr = () => `1111${String(nextCpr++).padStart(6, '0')}`;

function certificate(cpr: string, extra: Partial<NativeSickLeaveCertificate> = {}): NativeSickLeaveCertificate {
  return sickLeaveCertificate(cpr, { from: day(0), expectedTo: day(20) }, extra);
}

/** A certificate as a GP system sends it in FHIR: the jobcentre's full view, copy to the employer by extension. */
function fhirDocument(c: NativeSickLeaveCertificate): Bundle {
  const doc = buildCertificateDocument(
    c,
    { audience: 'jobcentre', disclose: ['diagnosis', 'clinical-notes'], status: 'final', id: 'GP-SYSTEM-0042' },
    testContext(),
  );
  const composition = {
    ...doc.composition.resource,
    extension: [{ url: COPY_TO_EMPLOYER, valueIdentifier: EMPLOYER }],
  };
  delete composition.meta;
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    timestamp: new Date().toISOString(),
    entry: [{ ...doc.entries[0], resource: composition }, ...doc.entries.slice(1)],
  };
}

describe('sick-leave certificates', () => {
  let jobcentre: MessageReceiver;
  let employer: MessageReceiver;
  let otherJobcentre: MessageReceiver;
  let otherEmployer: MessageReceiver;
  let clientsDir: string;
  let t: TestGateway;
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/json') =>
      t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', type).send(JSON.stringify(body)),
    get: (path: string) => t.http.get(path).set('Authorization', `Bearer ${key}`),
  });
  const at = (r: MessageReceiver, certificateId: string, status = 'final') =>
    eventually(
      () =>
        Promise.resolve(
          r.received.find(
            (m) => compositionOf(m).identifier?.value === certificateId && compositionOf(m).status === status,
          ),
        ),
      10000,
      `certificate ${certificateId} (${status})`,
    );

  /**
   * A patient with the consents a test needs: to the jobcentre (with extra classes), to the employer, and to
   * further jobcentres and employers by code. `municipality: null` registers the patient without an address.
   */
  async function patient(
    consents: {
      jobcentre?: string[];
      employer?: boolean;
      jobcentres?: string[];
      employers?: string[];
      municipality?: string | null;
    } = { jobcentre: [] },
  ): Promise<string> {
    const cpr = newCpr();
    const address =
      consents.municipality === null
        ? {}
        : { address: [municipalityAddress(consents.municipality ?? JOBCENTRE_MUNICIPALITY)] };
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
              ...address,
            },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      })
      .expect(200);
    if (consents.jobcentre) {
      const permit = consentFor(
        'permit',
        JOBCENTRE,
        { purpose: purposes('sickness-benefit-follow-up'), class: dataClasses(...MINIMAL, ...consents.jobcentre) },
        cpr,
      );
      await as(KEY.jobcentre).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    }
    const others = [
      ...(consents.employer ? [{ actor: EMPLOYER, purpose: 'employer-certificate' }] : []),
      ...(consents.employers ?? []).map((value) => ({
        actor: { system: SYSTEM.cvr, value },
        purpose: 'employer-certificate',
      })),
      ...(consents.jobcentres ?? []).map((value) => ({
        actor: { system: SYSTEM.municipality, value },
        purpose: 'sickness-benefit-follow-up',
      })),
    ];
    for (const { actor, purpose } of others) {
      const permit = consentFor('permit', actor, { purpose: purposes(purpose), class: dataClasses(...MINIMAL) }, cpr);
      await as(KEY.admin).post('/fhir/Consent', permit, 'application/fhir+json').expect(201);
    }
    return cpr;
  }

  /** A directory organisation (jobcentre or employer) with one endpoint, as a transaction Bundle. */
  const organisation = (
    id: { system: string; value: string },
    name: string,
    sector: 'municipality' | 'employer',
    endpoint: { id: string; address: string; status?: Endpoint['status'] },
  ): Bundle<Organization | Endpoint> => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:0e000000-0000-4000-8000-000000000001',
        resource: {
          resourceType: 'Organization',
          identifier: [id],
          type: [{ coding: [{ system: SYSTEM.sector, code: sector }] }],
          name,
          active: true,
          endpoint: [{ reference: 'urn:uuid:0e000000-0000-4000-8000-000000000002' }],
        } satisfies Organization,
        request: { method: 'PUT', url: `Organization?identifier=${id.system}|${id.value}` },
      },
      {
        fullUrl: 'urn:uuid:0e000000-0000-4000-8000-000000000002',
        resource: {
          resourceType: 'Endpoint',
          status: endpoint.status ?? 'active',
          connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
          payloadType: [{ text: 'FHIR message' }],
          address: endpoint.address,
          managingOrganization: { reference: 'urn:uuid:0e000000-0000-4000-8000-000000000001' },
        } satisfies Endpoint,
        request: { method: 'PUT', url: `Endpoint/${endpoint.id}` },
      },
    ],
  });

  beforeAll(async () => {
    jobcentre = await startMessageReceiver();
    employer = await startMessageReceiver();
    otherJobcentre = await startMessageReceiver();
    otherEmployer = await startMessageReceiver();
    // The demo clients plus a client of another practice, so corrections across practices are real requests.
    clientsDir = mkdtempSync(join(tmpdir(), 'sick-leave-clients-'));
    const clientsFile = join(clientsDir, 'clients.json');
    writeFileSync(
      clientsFile,
      JSON.stringify([
        ...DEMO_CLIENTS,
        { id: 'other-gp', apiKey: OTHER_GP_KEY, role: 'gp', organization: { system: SYSTEM.sor, value: OTHER_GP_SOR } },
      ]),
    );
    t = await startTestGateway({ env: { GATEWAY_CLIENTS_FILE: clientsFile } });
    await as(KEY.admin)
      .post(
        '/fhir',
        directoryBundle('http://127.0.0.1:9/unused', {
          jobcentreAddress: jobcentre.url,
          employerAddress: employer.url,
        }),
      )
      .expect(200);
    await as(KEY.admin)
      .post(
        '/fhir',
        organisation({ system: SYSTEM.municipality, value: OTHER_MUNICIPALITY }, 'Jobcenter Andenby', 'municipality', {
          id: 'ep-other-jobcentre',
          address: otherJobcentre.url,
        }),
      )
      .expect(200);
    await as(KEY.admin)
      .post(
        '/fhir',
        organisation({ system: SYSTEM.cvr, value: OTHER_EMPLOYER_CVR }, 'Andet Firma ApS', 'employer', {
          id: 'ep-other-employer',
          address: otherEmployer.url,
        }),
      )
      .expect(200);
    await as(KEY.admin)
      .post(
        '/fhir',
        organisation({ system: SYSTEM.cvr, value: VANISHING_CVR }, 'Flyttefirma ApS', 'employer', {
          id: VANISHING_ENDPOINT_ID,
          address: `${otherEmployer.url}/vanishing`,
        }),
      )
      .expect(200);
  });
  afterAll(async () => {
    await t.close();
    for (const r of [jobcentre, employer, otherJobcentre, otherEmployer]) {
      await r.close();
    }
    rmSync(clientsDir, { recursive: true, force: true });
  });

  it('gives the jobcentre its view and the employer a copy without diagnosis, medication or clinical text', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const res = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    expect(res.status).toBe(202);
    expect(res.body.messages).toHaveLength(2);
    const id = res.body.id as string;

    const toJobcentre = await at(jobcentre, id);
    const jc = JSON.stringify(toJobcentre.bundle);
    expect(jc).not.toContain('F32.1');
    expect(jc).not.toContain('sertralin');
    expect(jc).toContain('Kan udføre rolige opgaver');
    expect(compositionOf(toJobcentre).section?.map((s) => s.code?.coding?.[0]?.code)).toEqual([
      'work-incapacity',
      'functional-capacity',
      'withheld',
    ]);
    expect(errorsOf(toJobcentre.bundle)).toEqual([]);

    const toEmployer = await at(employer, id);
    const em = JSON.stringify(toEmployer.bundle);
    for (const forbidden of [
      'F32',
      'Moderat depressiv',
      'sertralin',
      'Samtaleterapi',
      '"Condition"',
      '"MedicationStatement"',
      'icd-10',
    ]) {
      expect(em).not.toContain(forbidden);
    }
    expect(em).toContain('[udeladt]');
    expect(compositionOf(toEmployer).meta?.profile).toEqual([
      'http://sektorbro.dk/fhir/StructureDefinition/sektorbro-employer-certificate',
    ]);
    expect(compositionOf(toEmployer).type.coding?.[0]?.code).toBe('employer-certificate');
    expect(errorsOf(toEmployer.bundle)).toEqual([]);
    expect(header(toEmployer).eventCoding?.code).toBe('sick-leave-certificate');
  });

  it('makes one certificate of four sent at once with one Idempotency-Key, and answers all four with it', async () => {
    const cpr = await patient({ jobcentre: [] });
    const key = `race-${cpr}`;
    const answers = await postAtOnce(
      t.gateway,
      4,
      '/sick-leave-certificates',
      { authorization: `Bearer ${KEY.gp}`, 'content-type': 'application/json', 'idempotency-key': key },
      JSON.stringify(certificate(cpr)),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await t.db.query('SELECT id FROM certificates WHERE patient_cpr = $1', [cpr])).toHaveLength(1);
  });

  it('includes the ICD-10 diagnosis for the jobcentre only where the consent covers it', async () => {
    const cpr = await patient({ jobcentre: ['diagnosis'] });
    const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr));
    expect(res.status).toBe(202);
    const delivered = await at(jobcentre, res.body.id as string);
    const condition = delivered.bundle.entry?.find((e) => e.resource?.resourceType === 'Condition')
      ?.resource as Condition;
    expect(condition.code?.coding?.[0]).toMatchObject({ system: SYSTEM.icd10, code: 'F32.1' });
    expect(JSON.stringify(delivered.bundle)).not.toContain('sertralin');
  });

  it("sends no employer copy without the patient's consent, and says so", async () => {
    const cpr = await patient({ jobcentre: [] });
    const res = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    expect(res.status).toBe(202);
    expect(res.body.messages.map((m: { recipient: { system: string } }) => m.recipient.system)).toEqual([
      SYSTEM.municipality,
    ]);
    expect(
      res.body.outcome.issue.map((i: { details?: { coding: Array<{ code: string }> } }) => i.details?.coding[0]?.code),
    ).toContain('employer-copy-withheld');
    const refused = await t.db.query("SELECT action FROM audit_events WHERE patient_cpr = $1 AND action = 'refused'", [
      cpr,
    ]);
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
    const first = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { period: { from: day(0), expectedTo: day(10) } }),
    );
    expect(first.status).toBe(202);
    const noOriginal = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { kind: 'continuation', period: { from: day(11), expectedTo: day(20) } }),
    );
    expect(noOriginal.status).toBe(422);
    expect(noOriginal.body.issue[0].expression[0]).toBe('continues');
    const overlapping = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, {
        kind: 'continuation',
        continues: first.body.id,
        period: { from: day(5), expectedTo: day(20) },
      }),
    );
    expect(overlapping.status).toBe(422);
    expect(overlapping.body.issue[0].details.coding[0].code).toBe('overlapping-period');
    const next = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, {
        kind: 'continuation',
        continues: first.body.id,
        period: { from: day(11), expectedTo: day(20) },
      }),
    );
    expect(next.status).toBe(202);
    const delivered = await at(jobcentre, next.body.id as string);
    expect(compositionOf(delivered).relatesTo).toEqual([
      { code: 'appends', targetIdentifier: { system: SYSTEM.documentId, value: first.body.id } },
    ]);
  });

  it('delivers a correction to everyone who had the original, replacing it', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const original = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    const id = original.body.id as string;
    await at(employer, id);
    // The correction names no recipients: it goes where the original went, and may overlap the original.
    const corrected = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { replaces: id, period: { from: day(0), expectedTo: day(27) } }),
    );
    expect(corrected.status).toBe(202);
    expect(corrected.body.messages).toHaveLength(2);
    const newId = corrected.body.id as string;
    for (const r of [jobcentre, employer]) {
      const m = await at(r, newId);
      expect(compositionOf(m).relatesTo?.[0]).toEqual({
        code: 'replaces',
        targetIdentifier: { system: SYSTEM.documentId, value: id },
      });
    }
    expect((await as(KEY.gp).get(`/sick-leave-certificates/${id}`)).body.status).toBe('replaced');
    const again = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { replaces: id }));
    expect(again.status).toBe(409);
  });

  it('cancels at every recipient (entered-in-error), once', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const res = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    const id = res.body.id as string;
    expect((await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, {})).status).toBe(400);
    const cancelled = await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, {
      reason: 'Udstedt på forkert patient.',
    });
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
    [
      'another practice as issuer',
      { issuedBy: { name: 'X', organization: { sor: '481201000016008' } } },
      403,
      'issuedBy.organization.sor',
    ],
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
    const bundle = fhirDocument(certificate(cpr));
    const res = await as(KEY.gp).post('/sick-leave-certificates', bundle, 'application/fhir+json');
    expect(res.status).toBe(202);
    expect(res.body.messages).toHaveLength(2);
    const toJobcentre = await at(jobcentre, res.body.id as string);
    expect(JSON.stringify(toJobcentre.bundle)).toContain('F32.1');
    expect(JSON.stringify(toJobcentre.bundle)).toContain('sertralin');
    const toEmployer = await at(employer, res.body.id as string);
    expect(JSON.stringify(toEmployer.bundle)).not.toContain('F32');
  });
  it('names the FHIR element, not a native field, when a FHIR document lacks or breaks something', async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const nameless = fhirDocument(certificate(cpr));
    const practitioner = nameless.entry?.find((e) => e.resource?.resourceType === 'Practitioner')
      ?.resource as Practitioner;
    delete practitioner.name;
    const res = await as(KEY.gp).post('/sick-leave-certificates', nameless, 'application/fhir+json');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(fieldsOf(res.body)).toEqual(['Practitioner.name']);

    const badIcd = fhirDocument(certificate(cpr, { diagnosis: { code: 'depression' } }));
    const icd = await as(KEY.gp).post('/sick-leave-certificates', badIcd, 'application/fhir+json');
    expect(icd.status).toBe(400);
    expect(fieldsOf(icd.body)).toEqual(['Condition.code']);

    const backwards = await as(KEY.gp).post(
      '/sick-leave-certificates',
      fhirDocument(certificate(cpr, { period: { from: day(5), expectedTo: day(1) } })),
      'application/fhir+json',
    );
    expect(backwards.status).toBe(422);
    expect(fieldsOf(backwards.body)).toEqual(['Observation.effectivePeriod.end']);
    expect(await t.db.query('SELECT id FROM certificates WHERE patient_cpr = $1', [cpr])).toEqual([]);
  });

  it('withdraws the original at a jobcentre and an employer that a correction no longer goes to', async () => {
    const cpr = await patient({
      jobcentre: [],
      employer: true,
      jobcentres: [OTHER_MUNICIPALITY],
      employers: [OTHER_EMPLOYER_CVR],
    });
    const original = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    expect(original.status).toBe(202);
    const id = original.body.id as string;
    await at(jobcentre, id);
    await at(employer, id);

    const newText = 'Kan ikke arbejde med tunge løft (rettet).';
    const corrected = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, {
        replaces: id,
        jobcentre: { municipality: OTHER_MUNICIPALITY },
        employer: { cvr: OTHER_EMPLOYER_CVR },
        limitations: newText,
      }),
    );
    expect(corrected.status).toBe(202);
    const newId = corrected.body.id as string;
    const sent = (corrected.body.messages as Array<{ kind: string; recipient: { value: string } }>)
      .map((m) => `${m.kind} ${m.recipient.value}`)
      .sort();
    expect(sent).toEqual([
      `sick-leave-cancellation ${JOBCENTRE_MUNICIPALITY}`,
      `sick-leave-cancellation ${EMPLOYER_CVR}`,
      `sick-leave-certificate ${OTHER_MUNICIPALITY}`,
      `sick-leave-certificate ${OTHER_EMPLOYER_CVR}`,
    ]);

    for (const r of [otherJobcentre, otherEmployer]) {
      const m = await at(r, newId);
      expect(compositionOf(m).relatesTo?.[0]).toEqual({
        code: 'replaces',
        targetIdentifier: { system: SYSTEM.documentId, value: id },
      });
    }
    // The old recipients are told the certificate they had is withdrawn, and learn nothing of the correction.
    for (const r of [jobcentre, employer]) {
      const m = await at(r, id, 'entered-in-error');
      expect(sectionCodes(m)).toEqual(['work-incapacity', 'cancelled']);
      const payload = JSON.stringify(m.bundle);
      for (const unseen of [newId, newText, 'F32', 'Moderat depressiv', 'sertralin']) {
        expect(payload).not.toContain(unseen);
      }
      expect(errorsOf(m.bundle)).toEqual([]);
      expect(r.received.some((x) => compositionOf(x).identifier?.value === newId)).toBe(false);
    }

    // A cancellation of the correction goes to those that have it, not to those it was withdrawn from.
    expect((await as(KEY.gp).post(`/sick-leave-certificates/${newId}/cancel`, { reason: 'Fejl.' })).status).toBe(202);
    await at(otherJobcentre, newId, 'entered-in-error');
    await at(otherEmployer, newId, 'entered-in-error');
    expect(jobcentre.received.some((x) => compositionOf(x).identifier?.value === newId)).toBe(false);
  });

  it("withdraws the employer's copy when its consent is refused at correction time, sending it nothing new", async () => {
    const cpr = await patient({ jobcentre: [], employer: true });
    const original = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    const id = original.body.id as string;
    await at(employer, id);
    await as(KEY.admin)
      .post('/fhir/Consent', consentFor('deny', EMPLOYER, {}, cpr), 'application/fhir+json')
      .expect(201);

    const newText = 'Må ikke køre bil (rettet).';
    const corrected = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { replaces: id, period: { from: day(0), expectedTo: day(27) }, limitations: newText }),
    );
    expect(corrected.status).toBe(202);
    const newId = corrected.body.id as string;
    expect(detailCodes(corrected.body.outcome)).toContain('employer-copy-withheld');
    expect(
      (corrected.body.messages as Array<{ kind: string; recipient: { value: string } }>)
        .map((m) => `${m.kind} ${m.recipient.value}`)
        .sort(),
    ).toEqual([`sick-leave-cancellation ${EMPLOYER_CVR}`, `sick-leave-certificate ${JOBCENTRE_MUNICIPALITY}`]);

    await at(jobcentre, newId);
    const withdrawn = await at(employer, id, 'entered-in-error');
    const payload = JSON.stringify(withdrawn.bundle);
    for (const unseen of [newId, newText, day(27), 'F32', 'Moderat depressiv', 'sertralin', 'Samtaleterapi']) {
      expect(payload).not.toContain(unseen);
    }
    expect(sectionCodes(withdrawn)).toEqual(['work-incapacity', 'cancelled']);
    expect(errorsOf(withdrawn.bundle)).toEqual([]);
    expect(employer.received.some((x) => compositionOf(x).identifier?.value === newId)).toBe(false);
  });

  it('tells the employer only that a certificate was cancelled; the jobcentre reads the reason where its consent covers clinical notes, and nothing is said to be withheld', async () => {
    const cpr = await patient({ jobcentre: ['clinical-notes'], employer: true });
    const res = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: EMPLOYER_CVR } }),
    );
    const id = res.body.id as string;
    const reason = 'Udstedt på forkert patient; depressionen hører til journal 4711.';
    expect((await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, { reason })).status).toBe(202);

    const toEmployer = JSON.stringify((await at(employer, id, 'entered-in-error')).bundle);
    for (const unseen of ['journal 4711', 'depressionen', 'Kan udføre rolige opgaver', 'Moderat depressiv']) {
      expect(toEmployer).not.toContain(unseen);
    }
    expect(toEmployer).toContain('annulleret');

    const toJobcentre = await at(jobcentre, id, 'entered-in-error');
    expect(JSON.stringify(toJobcentre.bundle)).toContain('journal 4711');
    // A cancellation discloses nothing, so it withholds nothing either: no "withheld under consent" section.
    expect(sectionCodes(toJobcentre)).toEqual(['work-incapacity', 'cancelled']);
    expect(JSON.stringify(toJobcentre.bundle)).not.toMatch(/withheld|Udeladt/);
  });

  it('cancels even when a recipient has lost its directory endpoint, sending to the endpoint it got the certificate at', async () => {
    const cpr = await patient({ jobcentre: [], employers: [VANISHING_CVR] });
    const res = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { employer: { cvr: VANISHING_CVR } }),
    );
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await at(otherEmployer, id);
    await as(KEY.admin)
      .post(
        '/fhir',
        organisation({ system: SYSTEM.cvr, value: VANISHING_CVR }, 'Flyttefirma ApS', 'employer', {
          id: VANISHING_ENDPOINT_ID,
          address: `${otherEmployer.url}/vanishing`,
          status: 'off',
        }),
      )
      .expect(200);

    const cancelled = await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, { reason: 'Forkert periode.' });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('entered-in-error');
    expect(detailCodes(cancelled.body.outcome)).toContain('no-endpoint');
    await at(jobcentre, id, 'entered-in-error');
    const toEmployer = await at(otherEmployer, id, 'entered-in-error');
    expect(toEmployer.path.startsWith('/vanishing')).toBe(true);
    expect((await as(KEY.gp).get(`/sick-leave-certificates/${id}`)).body.status).toBe('entered-in-error');
  });

  it('withdraws, rather than corrects, the copy of an employer that has lost its directory endpoint since', async () => {
    const cvr = '22334455';
    const address = `${otherEmployer.url}/moved`;
    await as(KEY.admin)
      .post(
        '/fhir',
        organisation({ system: SYSTEM.cvr, value: cvr }, 'Flyttet ApS', 'employer', {
          id: 'ep-moved-employer',
          address,
        }),
      )
      .expect(200);
    const cpr = await patient({ jobcentre: [], employers: [cvr] });
    const original = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, { employer: { cvr } }));
    const id = original.body.id as string;
    await at(otherEmployer, id);
    await as(KEY.admin)
      .post(
        '/fhir',
        organisation({ system: SYSTEM.cvr, value: cvr }, 'Flyttet ApS', 'employer', {
          id: 'ep-moved-employer',
          address,
          status: 'off',
        }),
      )
      .expect(200);

    const corrected = await as(KEY.gp).post(
      '/sick-leave-certificates',
      certificate(cpr, { replaces: id, period: { from: day(0), expectedTo: day(25) } }),
    );
    expect(corrected.status).toBe(202);
    const newId = corrected.body.id as string;
    expect(
      (corrected.body.messages as Array<{ kind: string; recipient: { value: string } }>)
        .map((m) => `${m.kind} ${m.recipient.value}`)
        .sort(),
    ).toEqual([`sick-leave-cancellation ${cvr}`, `sick-leave-certificate ${JOBCENTRE_MUNICIPALITY}`]);
    expect(detailCodes(corrected.body.outcome)).toEqual(
      expect.arrayContaining(['employer-copy-withheld', 'no-endpoint']),
    );
    await at(jobcentre, newId);
    const withdrawn = await at(otherEmployer, id, 'entered-in-error');
    expect(withdrawn.path.startsWith('/moved')).toBe(true);
    expect(otherEmployer.received.some((x) => compositionOf(x).identifier?.value === newId)).toBe(false);
  });

  describe('refuses, naming the field', () => {
    it("a correction of another practice's certificate (422, answered like an unknown id)", async () => {
      const cpr = await patient();
      const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr));
      const id = res.body.id as string;
      const other = await as(OTHER_GP_KEY).post(
        '/sick-leave-certificates',
        certificate(cpr, { replaces: id, issuedBy: { name: 'Anders Berg', organization: { sor: OTHER_GP_SOR } } }),
      );
      // Answered like an unknown id: another practice's record is not the sender's to learn about.
      expect(other.status).toBe(422);
      expect(other.body.resourceType).toBe('OperationOutcome');
      expect(fieldsOf(other.body)).toEqual(['replaces']);
      expect(detailCodes(other.body)).toEqual(['unknown-certificate']);
      expect((await as(KEY.gp).get(`/sick-leave-certificates/${id}`)).body.status).toBe('current');
    });

    it('a continuation of a cancelled certificate (409)', async () => {
      const cpr = await patient();
      const res = await as(KEY.gp).post(
        '/sick-leave-certificates',
        certificate(cpr, { period: { from: day(0), expectedTo: day(10) } }),
      );
      const id = res.body.id as string;
      expect((await as(KEY.gp).post(`/sick-leave-certificates/${id}/cancel`, { reason: 'Fejl.' })).status).toBe(202);
      const next = await as(KEY.gp).post(
        '/sick-leave-certificates',
        certificate(cpr, { kind: 'continuation', continues: id, period: { from: day(11), expectedTo: day(20) } }),
      );
      expect(next.status).toBe(409);
      expect(fieldsOf(next.body)).toEqual(['continues']);
      expect(detailCodes(next.body)).toEqual(['certificate-cancelled']);
    });

    it.each<[string, () => Promise<{ cpr: string; change: Partial<NativeSickLeaveCertificate> }>, string, string]>([
      [
        'a correction of an unknown certificate',
        async () => ({ cpr: await patient(), change: { replaces: randomUUID() } }),
        'replaces',
        'unknown-certificate',
      ],
      [
        'a patient without a municipality, and no jobcentre named',
        async () => ({ cpr: await patient({ jobcentre: [], municipality: null }), change: {} }),
        'jobcentre.municipality',
        'no-municipality',
      ],
      [
        'an employer CVR the directory does not know',
        async () => ({ cpr: await patient(), change: { employer: { cvr: '99999999' } } }),
        'employer.cvr',
        'unknown-recipient',
      ],
    ])('%s (422)', async (_name, setup, field, reason) => {
      const { cpr, change } = await setup();
      const res = await as(KEY.gp).post('/sick-leave-certificates', certificate(cpr, change));
      expect(res.status).toBe(422);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(fieldsOf(res.body)).toEqual([field]);
      expect(detailCodes(res.body)).toEqual([reason]);
      expect(await t.db.query('SELECT id FROM certificates WHERE patient_cpr = $1', [cpr])).toEqual([]);
    });
  });
});
