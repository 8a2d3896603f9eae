import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Communication, MessageHeader, Organization, Patient, Provenance } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { resolveMunicipalCareRecipients } from '../../src/directory/resolve-recipient';
import { GP_GLN, GP_SOR, HOSPITAL_GLN, HOSPITAL_SOR, directoryBundle } from '../helpers/directory-fixture';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * The MedCom path end to end: the directory says the GP system takes MedCom messages (Endpoint.payloadType),
 * so "send to own GP" and discharge letters reach it as CareCommunication and ADT as HospitalNotification,
 * sender and receiver with SOR and GLN; without a GLN the gateway refuses with a 422 naming it. The shapes are
 * checked against the MedCom packages in test/conformance/medcom; here the routing and the facts are.
 */
const example = (name: string): object =>
  JSON.parse(readFileSync(join(__dirname, '../../examples', name), 'utf8')) as object;
const hl7 = (name: string): string => readFileSync(join(__dirname, '../fixtures/hl7v2', name), 'latin1');

const resources = <T>(b: Bundle, type: string): T[] =>
  (b.entry ?? []).filter((e) => e.resource?.resourceType === type).map((e) => e.resource as T);

describe('MedCom messages to a MedCom GP system', () => {
  let gp: MessageReceiver;
  let t: TestGateway;

  beforeAll(async () => {
    gp = await startMessageReceiver();
    t = await startTestGateway();
    const loaded = await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle(gp.url, { medcom: true }));
    expect(loaded.status).toBe(200);
  });

  afterAll(async () => {
    await t.close();
    await gp.close();
  });

  it('"send to own GP" arrives as a CareCommunication with SOR and GLN on both organisations', async () => {
    const before = gp.unique.size;
    const res = await t.http
      .post('/send-to-own-gp')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(example('progress-note.json'));
    expect(res.status).toBe(202);
    await gp.waitFor(before + 1);
    const bundle = [...gp.unique.values()][before]?.bundle as Bundle;
    const header = bundle.entry?.[0]?.resource as MessageHeader;
    expect(header.eventCoding).toEqual({
      system: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes',
      code: 'care-communication-message',
    });
    expect(header.definition).toMatch(/MedComCareCommunicationMessageDefinition\|5\.0$/);
    const [communication] = resources<Communication>(bundle, 'Communication');
    expect(communication?.payload?.[0]?.contentString).toContain('Escitalopram');
    const orgs = resources<Organization>(bundle, 'Organization').map((o) =>
      (o.identifier ?? []).map((i) => `${i.system ?? ''}|${i.value ?? ''}`).sort(),
    );
    expect(orgs).toEqual(
      expect.arrayContaining([
        [`https://www.gs1.org/gln|${HOSPITAL_GLN}`, `urn:oid:1.2.208.176.1.1|${HOSPITAL_SOR}`],
        // the directory holds the GP's GLN under http:// (dk-core 3.5.0); MedCom's stack is sent https://
        [`https://www.gs1.org/gln|${GP_GLN}`, `urn:oid:1.2.208.176.1.1|${GP_SOR}`],
      ]),
    );
    const [patient] = resources<Patient>(bundle, 'Patient');
    expect(patient?.name?.[0]).toMatchObject({ use: 'official', family: 'Testesen' });
    const [provenance] = resources<Provenance>(bundle, 'Provenance');
    expect(provenance?.occurredDateTime).toBe(bundle.timestamp);
    expect(provenance?.recorded).toBe(bundle.timestamp);
    expect(provenance?.activity?.coding?.[0]?.code).toBe('new-message');
  });

  it('a discharge letter arrives as a CareCommunication (category discharge) with the letter as PDF', async () => {
    const before = gp.unique.size;
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(example('discharge-letter.json'));
    expect(res.status).toBe(202);
    await gp.waitFor(before + 1);
    const bundle = [...gp.unique.values()][before]?.bundle as Bundle;
    const [communication] = resources<Communication>(bundle, 'Communication');
    expect(communication?.category?.[0]?.coding?.[0]?.code).toBe('discharge');
    const pdf = communication?.payload?.find((p) => p.contentAttachment?.contentType === 'application/pdf');
    expect(
      Buffer.from(pdf?.contentAttachment?.data ?? '', 'base64')
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    expect(communication?.payload?.[0]?.contentString?.length).toBeGreaterThan(20);
  });

  it('an ADT^A01 arrives as a HospitalNotification (admit-inpatient) without location', async () => {
    const before = gp.unique.size;
    const res = await t.http
      .post('/hl7v2')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'x-application/hl7-v2+er7')
      .send(hl7('adt-a01.hl7'));
    expect(res.status).toBe(202);
    await gp.waitFor(before + 1);
    const bundle = [...gp.unique.values()][before]?.bundle as Bundle;
    expect((bundle.entry?.[0]?.resource as MessageHeader).eventCoding?.code).toBe('hospital-notification-message');
    const encounter = bundle.entry?.find((e) => e.resource?.resourceType === 'Encounter')?.resource as unknown as {
      location?: unknown;
      episodeOfCare: Array<{ identifier: { value: string } }>;
    };
    expect(encounter.location).toBeUndefined();
    expect(encounter.episodeOfCare[0]?.identifier.value).toMatch(/^[0-9a-f-]{36}$/);
    expect(resources<Provenance>(bundle, 'Provenance')[0]?.activity?.coding?.[0]?.code).toBe('admit-inpatient');
  });

  it('a MedCom message to an organisation without a GLN is a 422 naming the missing GLN', async () => {
    const t2 = await startTestGateway();
    try {
      const directory = directoryBundle(gp.url, { medcom: true });
      const gpOrg = directory.entry?.find((e) => e.fullUrl === 'urn:uuid:22222222-2222-4222-8222-222222222222')
        ?.resource as Organization;
      gpOrg.identifier = gpOrg.identifier?.filter((i) => !i.system?.includes('gs1'));
      expect((await t2.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directory)).status).toBe(
        200,
      );
      const res = await t2.http
        .post('/send-to-own-gp')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(example('progress-note.json'));
      expect(res.status).toBe(422);
      expect(res.body.issue[0].diagnostics).toMatch(/receiver \(SOR 481101000016000.*no GLN/);
      expect(res.body.issue[0].details.coding[0].code).toBe('missing-gln');
      expect(res.body.issue[0].expression).toEqual(['Organization.identifier']);
      const messages = await t2.db.query('SELECT id FROM messages');
      expect(messages).toHaveLength(0);
      // the dry run says the same as a warning and shows the gateway's own message
      const dry = await t2.http
        .post('/$convert')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(example('progress-note.json'));
      expect(dry.status).toBe(200);
      const [preview, checks] = ['return', 'outcome'].map(
        (name) =>
          (dry.body as { parameter: Array<{ name: string; resource: unknown }> }).parameter.find((p) => p.name === name)
            ?.resource,
      ) as [Bundle, { issue: Array<{ severity: string; details?: { coding?: Array<{ code: string }> } }> }];
      expect(checks.issue).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            severity: 'warning',
            details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'missing-gln' })] }),
          }),
        ]),
      );
      expect((preview.entry?.[0]?.resource as MessageHeader).eventCoding?.code).toBe('clinical-document');
    } finally {
      await t2.close();
    }
  });

  it("a FHIR-native endpoint (no MedCom payload type) still gets the gateway's own message", async () => {
    const native = await startMessageReceiver();
    const t3 = await startTestGateway();
    try {
      await t3.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(native.url));
      const res = await t3.http
        .post('/send-to-own-gp')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(example('progress-note.json'));
      expect(res.status).toBe(202);
      await native.waitFor(1);
      const header = [...native.unique.values()][0]?.bundle.entry?.[0]?.resource as MessageHeader;
      expect(header.eventCoding?.system).toBe('http://sektorbro.dk/fhir/CodeSystem/sektorbro-message-events');
    } finally {
      await t3.close();
      await native.close();
    }
  });

  it('$convert previews the dialect the GP system takes: a MedCom CareCommunication, nothing sent', async () => {
    const before = gp.unique.size;
    const res = await t.http
      .post('/$convert')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(example('progress-note.json'));
    expect(res.status).toBe(200);
    const preview = (res.body as { parameter: Array<{ name: string; resource: Bundle }> }).parameter.find(
      (p) => p.name === 'return',
    )?.resource as Bundle;
    const header = preview.entry?.[0]?.resource as MessageHeader;
    expect(header.eventCoding?.code).toBe('care-communication-message');
    expect(resources<Communication>(preview, 'Communication')).toHaveLength(1);
    expect(gp.unique.size).toBe(before);
  });

  it('rejects a directory GLN without a valid check digit', async () => {
    const directory = directoryBundle(gp.url, { medcom: true });
    const gpOrg = directory.entry?.find((e) => e.fullUrl === 'urn:uuid:22222222-2222-4222-8222-222222222222')
      ?.resource as Organization;
    gpOrg.identifier = [
      ...(gpOrg.identifier ?? []).filter((i) => !i.system?.includes('gs1')),
      { system: 'https://www.gs1.org/gln', value: '5790000543213' },
    ];
    const res = await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directory);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/GLN "5790000543213" is not 13 digits with a valid GS1 check digit/);
  });

  it('keeps tracking the delivery', async () => {
    const rows = await eventually(async () => {
      const r = await t.db.query<{ status: string }>("SELECT status FROM deliveries WHERE status = 'delivered'");
      return r.length >= 3 ? r : undefined;
    });
    expect(rows.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the demo directory (examples/directory.json)', () => {
  it('loads, with GLNs for the demo department and GP and a MedCom GP endpoint', async () => {
    const t = await startTestGateway();
    try {
      const res = await t.http
        .post('/fhir')
        .set('Authorization', `Bearer ${KEY.admin}`)
        .send(example('directory.json'));
      expect(res.status).toBe(200);
      const rows = await t.db.query<{ resource: Organization }>(
        'SELECT resource FROM organizations WHERE sor IS NOT NULL',
      );
      expect(rows.every((r) => r.resource.identifier?.some((i) => i.system?.endsWith('gs1.org/gln')))).toBe(true);
      const endpoints = await t.db.query<{ resource: { payloadType: Array<{ coding?: Array<{ code: string }> }> } }>(
        "SELECT resource FROM endpoints WHERE address = 'http://localhost:8090'",
      );
      expect(endpoints[0]?.resource.payloadType.flatMap((p) => p.coding?.map((c) => c.code))).toContain(
        'care-communication-message',
      );
      // the demo patient receives hjemmepleje from the municipality's home-care unit, which has a MedCom endpoint
      const units = await resolveMunicipalCareRecipients(t.db, '0101901234', new Date(), 'PID-3');
      expect(units.map((u) => [u.sor, u.endpoint.address])).toEqual([
        ['953741000016009', 'http://localhost:8090/hjemmepleje'],
      ]);
    } finally {
      await t.close();
    }
  });
});
