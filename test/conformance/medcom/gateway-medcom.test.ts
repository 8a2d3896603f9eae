import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, MessageHeader, Organization, Provenance } from 'fhir/r4';
import { acknowledgementFor, startMessageReceiver, type MessageReceiver } from '../../../scripts/fhir-message-receiver';
import { buildCareCommunication } from '../../../src/mappers/medcom/care-communication';
import { SYSTEM } from '../../../src/mappers/systems';
import {
  GP_GLN,
  GP_SOR,
  HOSPITAL_GLN,
  HOSPITAL_SOR,
  MEDCOM_GP_PAYLOAD_TYPES,
  directoryBundle,
  municipalCareBundle,
} from '../../helpers/directory-fixture';
import { testContext } from '../../helpers/mapping-context';
import { KEY, startTestGateway, type TestGateway } from '../../helpers/test-gateway';
import { readPackage, resourcesIn } from './packages';
import { validateMedComMessage } from './medcom-validator';

/**
 * Everything the running gateway sends towards MedCom receivers, validated against the MedCom packages: the
 * CareCommunications of "send to own GP" and of discharge letters (native JSON and HL7 v2 MDM), the
 * HospitalNotifications of ADT^A01/A03, the acknowledgements it answers a GP system's reply with, and the
 * demo receiver's acknowledgements. Then MedCom's own test messages (the *testscripts* packages) on intake.
 */
const examples = join(__dirname, '../../../examples');
const fixtures = join(__dirname, '../../fixtures/hl7v2');
const errorsOf = (b: Bundle): string[] => validateMedComMessage(b).map((i) => i.diagnostics ?? '');

describe('the gateway speaks MedCom', () => {
  let gp: MessageReceiver;
  let hospital: MessageReceiver;
  let t: TestGateway;

  beforeAll(async () => {
    gp = await startMessageReceiver();
    hospital = await startMessageReceiver();
    t = await startTestGateway();
    const loaded = await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(directoryBundle(gp.url, { medcom: true, hospitalAddress: hospital.url }));
    expect(loaded.status).toBe(200);
  });

  afterAll(async () => {
    await t.close();
    await gp.close();
    await hospital.close();
  });

  it('every message to the MedCom GP system validates against its MedCom stack', async () => {
    const post = (path: string, body: string | object, type = 'application/json') =>
      t.http.post(path).set('Authorization', `Bearer ${KEY.hospital}`).set('Content-Type', type).send(body);
    const a01 = readFileSync(join(fixtures, 'adt-a01.hl7'), 'latin1');
    const a03 = a01
      .replace('ADT^A01^ADT_A01', 'ADT^A03^ADT_A03')
      .replace('EVN|A01|20261028093000', 'EVN|A03|20261102140000')
      .replace(/\|20261028093000$/m, '|20261028093000|20261102140000')
      .replace('PV1|1|I|', 'PV1|1|E|')
      .replace('ADT-2026-0001', 'ADT-2026-0002');
    const sent = [
      await post('/send-to-own-gp', readFileSync(join(examples, 'progress-note.json'), 'utf8')),
      await post('/discharge-letters', readFileSync(join(examples, 'discharge-letter.json'), 'utf8')),
      await post('/hl7v2', readFileSync(join(fixtures, 'mdm-t02-discharge.hl7'), 'latin1'), 'x-application/hl7-v2+er7'),
      await post('/hl7v2', a01, 'x-application/hl7-v2+er7'),
      await post('/hl7v2', a03, 'x-application/hl7-v2+er7'),
    ];
    expect(sent.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    await gp.waitFor(5);
    const received = [...gp.unique.values()].map((m) => m.bundle);
    for (const bundle of received) {
      expect({ id: bundle.id, errors: errorsOf(bundle) }).toEqual({ id: bundle.id, errors: [] });
      expect({ id: bundle.id, errors: errorsOf(acknowledgementFor(bundle, 'ok', gp.url)) }).toEqual({
        id: bundle.id,
        errors: [],
      });
      expect(errorsOf(acknowledgementFor(bundle, 'fatal-error', gp.url))).toEqual([]);
    }
    const activities = received.map(
      (b) => (b.entry ?? []).find((e) => e.resource?.resourceType === 'Provenance')?.resource as Provenance | undefined,
    );
    expect(activities.map((p) => p?.activity?.coding?.[0]?.code).sort()).toEqual([
      'admit-inpatient',
      'discharge-emergency-home',
      'new-message',
      'new-message',
      'new-message',
    ]);
    // one stay, one episode-of-care identifier: the A01 and A03 carry the same one
    const episodes = received
      .flatMap((b) => b.entry ?? [])
      .filter((e) => e.resource?.resourceType === 'Encounter')
      .map(
        (e) =>
          (e.resource as unknown as { episodeOfCare: Array<{ identifier: { value: string } }> }).episodeOfCare[0]
            ?.identifier.value,
      );
    expect(episodes).toHaveLength(2);
    expect(new Set(episodes).size).toBe(1);
  });

  it('the $convert preview for the MedCom GP system validates against its MedCom stack', async () => {
    const res = await t.http
      .post('/$convert')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(readFileSync(join(examples, 'discharge-letter.json'), 'utf8'))
      .set('Content-Type', 'application/json');
    expect(res.status).toBe(200);
    const preview = (res.body as { parameter: Array<{ name: string; resource: Bundle }> }).parameter.find(
      (p) => p.name === 'return',
    )?.resource as Bundle;
    expect((preview.entry?.[0]?.resource as MessageHeader).eventCoding?.code).toBe('care-communication-message');
    expect(errorsOf(preview)).toEqual([]);
  });

  it("the acknowledgement of a GP system's reply validates, and the reply reaches the department", async () => {
    const sent = [...gp.unique.values()][0]?.bundle as Bundle;
    const reply = buildCareCommunication(
      {
        messageHeaderId: 'f1e2d3c4-0000-4000-8000-000000000001',
        bundleId: 'f1e2d3c4-0000-4000-8000-000000000002',
        sender: { sor: GP_SOR, gln: GP_GLN, name: 'Lægerne i Testby' },
        receiver: { sor: HOSPITAL_SOR, gln: HOSPITAL_GLN, name: 'Psykiatrisk Center Testby', endpoint: 'x' },
        patient: { cpr: '0101901234', name: { family: 'Testesen', given: ['Test'] } },
        category: 'other',
        topic: 'Svar',
        text: 'Tak.',
        attachments: [],
        author: { name: 'Peter Hansen', role: 'Læge', contact: { system: 'phone', value: '33333333' } },
        writtenAt: '2026-11-22T11:00:00+01:00',
        replyTo: sent,
      },
      testContext('2026-11-22T10:00:00Z', 'f0000000'),
    );
    expect(errorsOf(reply)).toEqual([]);
    const res = await t.http.post('/fhir/$process-message').set('Authorization', `Bearer ${KEY.gp}`).send(reply);
    expect(res.status).toBe(200);
    expect(errorsOf(res.body as Bundle)).toEqual([]);
    expect(((res.body as Bundle).entry?.[0]?.resource as MessageHeader).response?.code).toBe('ok');
    await hospital.waitFor(1);
  });
});

describe('HospitalNotification to the municipal care unit', () => {
  it('validates against its MedCom stack, as the GP copy does', async () => {
    const gp = await startMessageReceiver();
    const homeCare = await startMessageReceiver();
    const t = await startTestGateway();
    try {
      for (const bundle of [directoryBundle(gp.url, { medcom: true }), municipalCareBundle(homeCare.url)]) {
        expect((await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(bundle)).status).toBe(200);
      }
      const a01 = readFileSync(join(fixtures, 'adt-a01.hl7'), 'latin1');
      const res = await t.http
        .post('/hl7v2')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .set('Content-Type', 'x-application/hl7-v2+er7')
        .send(a01);
      expect(res.status).toBe(202);
      await homeCare.waitFor(1);
      await gp.waitFor(1);
      for (const bundle of [...homeCare.unique.values(), ...gp.unique.values()].map((m) => m.bundle)) {
        expect({ id: bundle.id, errors: errorsOf(bundle) }).toEqual({ id: bundle.id, errors: [] });
        expect(errorsOf(acknowledgementFor(bundle, 'ok', homeCare.url))).toEqual([]);
      }
    } finally {
      await t.close();
      await gp.close();
      await homeCare.close();
    }
  });
});

describe("MedCom's test messages on intake", () => {
  const messages = [
    'medcom.fhir.dk.carecommunicationtestscripts-5.0.0',
    'medcom.fhir.dk.hospitalnotificationtestscripts-3.0.1',
  ]
    .flatMap((id) => [...resourcesIn(readPackage(id), ''), ...resourcesIn(readPackage(id), 'example')])
    .map((f) => f.resource as unknown as Bundle)
    .filter((b) => b.resourceType === 'Bundle' && b.type === 'message');

  it('finds them', () => {
    expect(messages.length).toBeGreaterThan(40);
  });

  it('answers every one with a conformant MedCom acknowledgement (or a 4xx naming the fault), never a 5xx', async () => {
    const receiver = await startMessageReceiver();
    const orgs = new Map<string, Organization>();
    for (const b of messages) {
      for (const e of b.entry ?? []) {
        const o = e.resource as Organization | undefined;
        const sor =
          o?.resourceType === 'Organization' ? o.identifier?.find((i) => i.system === SYSTEM.sor)?.value : undefined;
        if (o && sor && !orgs.has(sor)) {
          orgs.set(sor, o);
        }
      }
    }
    // every organisation of the test messages is a client (it may send) and a MedCom receiver in the directory
    const dir = mkdtempSync(join(tmpdir(), 'medcom-clients-'));
    const clients = [...orgs.keys()].map((sor) => ({
      id: `medcom-${sor}`,
      apiKey: `medcom-test-key-${sor}`,
      role: 'hospital',
      organization: { system: SYSTEM.sor, value: sor },
    }));
    clients.push({
      id: 'admin',
      apiKey: KEY.admin,
      role: 'admin',
      organization: { system: SYSTEM.sor, value: HOSPITAL_SOR },
    });
    writeFileSync(join(dir, 'clients.json'), JSON.stringify(clients));
    const t = await startTestGateway({ env: { GATEWAY_CLIENTS_FILE: join(dir, 'clients.json') } });
    try {
      const directory: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [...orgs.entries()].flatMap(([sor, o], i) => [
          {
            fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i * 2 + 1).padStart(12, '0')}`,
            resource: {
              resourceType: 'Organization',
              identifier: o.identifier?.filter((x) => x.system === SYSTEM.sor || x.system?.endsWith('gs1.org/gln')),
              name: o.name ?? `SOR ${sor}`,
              active: true,
            } as Organization,
            request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.sor}|${sor}` },
          },
          {
            fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i * 2 + 2).padStart(12, '0')}`,
            resource: {
              resourceType: 'Endpoint',
              status: 'active',
              connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
              payloadType: MEDCOM_GP_PAYLOAD_TYPES.slice(0, 3),
              address: `${receiver.url}/${sor}`,
              managingOrganization: {
                reference: `urn:uuid:00000000-0000-4000-8000-${String(i * 2 + 1).padStart(12, '0')}`,
              },
            },
            request: { method: 'POST', url: 'Endpoint' },
          },
        ]),
      };
      const loaded = await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directory);
      expect(loaded.status).toBe(200);
      const outcomes: Record<string, number> = {};
      const notOk: string[] = [];
      for (const b of messages) {
        const header = b.entry?.[0]?.resource as MessageHeader;
        const senderRef = header.sender?.reference ?? '';
        const sender = (b.entry ?? []).find(
          (e) =>
            e.fullUrl === senderRef ||
            `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}` === senderRef ||
            e.fullUrl?.endsWith(`/${senderRef}`),
        )?.resource as Organization | undefined;
        const sor = sender?.identifier?.find((i) => i.system === SYSTEM.sor)?.value ?? '';
        const res = await t.http
          .post('/fhir/$process-message')
          .set('Authorization', `Bearer medcom-test-key-${sor}`)
          .send(b);
        expect({ id: b.id, status: res.status < 500 }).toEqual({ id: b.id, status: true });
        const key =
          res.status === 200 && res.body.resourceType === 'Bundle'
            ? ((res.body.entry[0].resource as MessageHeader).response?.code ?? 'no-response')
            : `http-${res.status}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        if (key !== 'ok') {
          const why =
            res.body.resourceType === 'Bundle'
              ? (res.body as Bundle).entry?.find((e) => e.resource?.resourceType === 'OperationOutcome')?.resource
              : res.body;
          notOk.push(
            `${b.id ?? ''} ${key} ${JSON.stringify((why as { issue?: unknown[] } | undefined)?.issue?.[0] ?? {})}`,
          );
        }
        if (res.status === 200 && res.body.resourceType === 'Bundle') {
          expect({ id: b.id, errors: errorsOf(res.body as Bundle) }).toEqual({ id: b.id, errors: [] });
        }
      }
      console.log('MedCom testscripts on intake:', JSON.stringify(outcomes), notOk.join('\n'));
      // 72 of MedCom's 74 test messages are taken (16 were refused for a tel: link in their narrative until that
      // was allowed). The two refused are invalid R4 by design of their test: two entries with one fullUrl (bdl-7)
      // and a MessageHeader without event[x]. A drop below this is a regression, not noise.
      expect(outcomes.ok ?? 0).toBeGreaterThanOrEqual(messages.length - 2);
      expect(notOk.filter((line) => !/bdl-7|event\[x\]/.test(line))).toEqual([]);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
