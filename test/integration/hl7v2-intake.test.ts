import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Composition } from 'fhir/r4';
import { type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { parseHl7Message } from '../../src/hl7v2/parse';
import { mapHl7ToDischargeLetter } from '../../src/mappers/hl7v2/to-discharge-letter';
import { mapNativeDischargeLetter } from '../../src/mappers/discharge-letter/from-native';
import { asDocumentBundle } from '../helpers/fixtures';
import { testContext } from '../helpers/mapping-context';
import { KEY, eventually, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/** HL7 v2 over HTTP: the same FHIR discharge letter as the JSON path, MSH-10 as the idempotency key. */
const hl7 = () => readFileSync(join(__dirname, '../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');

describe('HL7 v2 discharge letters over HTTP', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  const post = (body: string, type = 'x-application/hl7-v2+er7') =>
    t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', type)
      .send(body);
  const delivered = async (id: string) => {
    const tracking = await eventually(async () => {
      const r = await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? r.body : undefined;
    });
    const message = gp.received.find((m) => m.messageHeaderId === tracking.messageHeaderId);
    return message?.bundle.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource as Composition;
  };

  it('accepts an MDM^T02 with 202 and delivers the same letter the JSON path makes', async () => {
    const viaHl7 = await post(hl7());
    expect(viaHl7.status).toBe(202);
    const viaJson = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(mapHl7ToDischargeLetter(parseHl7Message(hl7())));
    expect(viaJson.status).toBe(202);
    const [a, b] = await Promise.all([delivered(viaHl7.body.id as string), delivered(viaJson.body.id as string)]);
    const shape = (c: Composition) => ({
      type: c.type,
      title: c.title,
      sections: c.section?.map((s) => [s.code?.coding?.[0]?.code, s.text?.div]),
    });
    expect(shape(a)).toEqual(shape(b));
    // An unstructured HL7 letter lacks a follow-up plan etc., so the GP sees the completeness section first.
    expect(a.section?.map((s) => s.code?.coding?.[0]?.code)).toEqual([
      'completeness-warnings',
      '11535-2',
      'letter-text',
      'attachments',
    ]);
  });

  it('delivers the same letter for the HL7 and the FHIR input of one letter', async () => {
    const viaHl7 = await post(hl7().replace('MSG-2026-000777', 'EQUIV-1'));
    const fhir = asDocumentBundle(
      mapNativeDischargeLetter(mapHl7ToDischargeLetter(parseHl7Message(hl7())), testContext(undefined, 'eeeeeeee')),
    );
    const viaFhir = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(fhir));
    expect([viaHl7.status, viaFhir.status]).toEqual([202, 202]);
    const [a, b] = await Promise.all([delivered(viaHl7.body.id as string), delivered(viaFhir.body.id as string)]);
    const shape = (c: Composition) => ({
      type: c.type,
      title: c.title,
      sections: c.section?.map((s) => [s.code?.coding?.[0]?.code, s.text?.div]),
    });
    expect(shape(a)).toEqual(shape(b));
  });

  it('takes text/plain that starts with MSH, with LF line ends', async () => {
    const res = await post(hl7().replace(/\r/g, '\n').replace('MSG-2026-000777', 'MSG-2026-000778'), 'text/plain');
    expect(res.status).toBe(202);
  });

  it('answers the same MSH-10 again with the first answer and delivers once', async () => {
    const first = await post(hl7().replace('MSG-2026-000777', 'MSG-2026-000779'));
    const again = await post(hl7().replace('MSG-2026-000777', 'MSG-2026-000779'));
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('refuses another message under a control id already used (409)', async () => {
    await post(hl7().replace('MSG-2026-000777', 'MSG-REUSED')).expect(202);
    const res = await post(
      hl7().replace('MSG-2026-000777', 'MSG-REUSED').replace('Udskrivningsbrev til egen læge.', 'Andet brev.'),
    );
    expect(res.status).toBe(409);
  });

  it.each([
    ['text that is not HL7', 'hello', 'text/plain', 415, /MSH/],
    ['broken delimiters', 'MSH|^^\\&|X', 'x-application/hl7-v2+er7', 400, /MSH-2/],
    [
      'an ADT message',
      hl7().replace('MDM^T02^MDM_T02', 'ADT^A08^ADT_A01').replace('MSG-2026-000777', 'ADT-1'),
      'x-application/hl7-v2+er7',
      400,
      /MSH-9/,
    ],
    [
      'no CPR',
      hl7().replace('0101901234^^^CPR^NNDNK', '0101901234^^^HOSP^MR').replace('MSG-2026-000777', 'NO-CPR-1'),
      'x-application/hl7-v2+er7',
      400,
      /PID-3/,
    ],
  ])('refuses %s with an OperationOutcome naming the field', async (_name, body, type, status, text) => {
    const res = await post(body, type);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body.issue)).toMatch(text);
  });
});

describe('HL7 v2 admission and discharge notifications, POST /hl7v2 and POST /$convert', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;
  const adt = () => readFileSync(join(__dirname, '../fixtures/hl7v2/adt-a01.hl7'), 'utf8');

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });
  const post = (path: string, body: string, key = KEY.hospital) =>
    t.http.post(path).set('Authorization', `Bearer ${key}`).set('Content-Type', 'x-application/hl7-v2+er7').send(body);

  it.each([
    ['ADT^A01', () => adt(), 'admission-notification', 'in-progress', undefined],
    [
      'ADT^A03',
      () =>
        adt()
          .replace('ADT^A01^ADT_A01', 'ADT^A03^ADT_A03')
          .replace('ADT-2026-0001', 'ADT-2026-0002')
          .replace(/(PV1[^\r]*)/, '$1|20261120100000'),
      'discharge-notification',
      'finished',
      '2026-11-20T10:00:00+01:00',
    ],
  ])(
    'sends an %s to the own GP as an Encounter with period, class and department',
    async (_name, body, event, status, end) => {
      const before = gp.unique.size;
      const res = await post('/hl7v2', body());
      expect(res.status).toBe(202);
      await gp.waitFor(before + 1);
      const bundle = [...gp.unique.values()].at(-1)!.bundle;
      const header = bundle.entry?.[0]?.resource as unknown as {
        eventCoding: { code: string };
        focus: Array<{ reference: string }>;
      };
      expect(header.eventCoding.code).toBe(event);
      const encounter = bundle.entry?.find((e) => e.fullUrl === header.focus[0]?.reference)?.resource as {
        resourceType: string;
        status: string;
        class: { code: string };
        period: { start: string; end?: string };
        serviceProvider: { display: string };
      };
      expect(encounter).toMatchObject({
        resourceType: 'Encounter',
        status,
        class: { code: 'IMP' },
        // PV1-44 at full precision (09:30 Danish time), not truncated to the date.
        period: { start: '2026-10-28T09:30:00+01:00' },
        serviceProvider: { display: 'Psykiatrisk Center Demo' },
      });
      expect(encounter.period.end).toBe(end);
      // Minimal data on a legal basis: no diagnoses, no clinical text.
      expect(bundle.entry?.map((e) => e.resource?.resourceType)).not.toContain('Condition');
    },
  );

  it('refuses a message type it does not take, naming MSH-9', async () => {
    const res = await post(
      '/hl7v2',
      adt().replace('ADT^A01^ADT_A01', 'ADT^A08^ADT_A01').replace('ADT-2026-0001', 'ADT-X'),
    );
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression[0]).toBe('MSH-9');
  });

  it('converts HL7, FHIR and native input without storing or delivering anything', async () => {
    const before = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const fromHl7 = await post('/$convert', hl7().replace('MSG-2026-000777', 'CONVERT-1'), KEY.gp);
    expect(fromHl7.status).toBe(200);
    expect(fromHl7.body.resourceType).toBe('Parameters');
    const bundle = fromHl7.body.parameter[0].resource;
    expect(bundle.type).toBe('message');
    const outcome = fromHl7.body.parameter[1].resource;
    expect(
      outcome.issue.map((i: { details?: { coding?: Array<{ code: string }> } }) => i.details?.coding?.[0]?.code),
    ).toContain('missing-follow-up-plan');
    const fromJson = await t.http
      .post('/$convert')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(mapHl7ToDischargeLetter(parseHl7Message(hl7())));
    expect(fromJson.status).toBe(200);
    const unknownPatient = await t.http
      .post('/$convert')
      .set('Authorization', `Bearer ${KEY.gp}`)
      .send({ ...mapHl7ToDischargeLetter(parseHl7Message(hl7())), patient: { cpr: '3112999999' } });
    expect(unknownPatient.status).toBe(200);
    expect(JSON.stringify(unknownPatient.body.parameter[1].resource)).toContain('recipient-not-resolved');
    const after = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
