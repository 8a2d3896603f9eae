import type { Bundle, MessageHeader } from 'fhir/r4';
import type { Response } from 'supertest';
import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { SYSTEM } from '../../src/mappers/systems';
import { requestExamples } from '../../src/validation/request-schemas';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * JSON as FHIR means it (issue 14, items 4 and 5): duplicate and forbidden property names, blank strings, impossible
 * dates, active narrative, decimals kept as written, and wrong JSON types answered with a 400 naming the element
 * instead of a 500. The inputs are the smallest ones the fuzz run found.
 */
const example = (path: string, name: string): unknown =>
  structuredClone(requestExamples().find((e) => e.path === path && e.name === name)?.value);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- example bodies are edited freely, as JSON
type Json = Record<string, any>;
const documentExample = () => example('/discharge-letters', 'minimal-document') as Json;

describe('FHIR JSON input', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
    const permit = consentFor(
      'permit',
      { system: SYSTEM.municipality, value: '0101' },
      {
        purpose: purposes('work-capacity-assessment', 'sickness-benefit-follow-up'),
        class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline', 'sick-leave-minimal'),
      },
    );
    await t.http
      .post('/fhir/Consent')
      .set('Authorization', `Bearer ${KEY.jobcentre}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(permit))
      .expect(201);
  });

  afterAll(async () => {
    await close();
  });

  const post = (path: string, body: unknown, key: string, type = 'application/fhir+json') =>
    t.http
      .post(path)
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', type)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  const expect400 = (res: Response, where: RegExp) => {
    if (res.status !== 400) {
      throw new Error(`expected 400, got ${res.status}: ${JSON.stringify(res.body).slice(0, 600)}`);
    }
    expect(res.body.resourceType).toBe('OperationOutcome');
    const all = (res.body.issue as Array<{ diagnostics?: string; expression?: string[] }>)
      .map((i) => `${i.diagnostics ?? ''} ${(i.expression ?? []).join(',')}`)
      .join(' | ');
    expect(all).toMatch(where);
  };

  describe('the shape of the JSON text', () => {
    it('refuses nesting 5000 deep before hashing the body for idempotency (was a stack overflow, 500)', async () => {
      const deep = `{"patient":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      for (const path of ['/discharge-letters', '/send-to-own-gp', '/$convert']) {
        const res = await t.http
          .post(path)
          .set('Authorization', `Bearer ${KEY.hospital}`)
          .set('Content-Type', 'application/json')
          .set('Idempotency-Key', `deep-${path}`)
          .send(deep);
        expect400(res, /nested more than 100 levels/);
        expect(res.body.issue[0].details.coding[0].code).toBe('too-deep');
      }
    });

    it('refuses a property given twice, naming it (the last one used to win)', async () => {
      const doc = JSON.stringify(documentExample());
      // The Composition's status twice: valid JSON text, but not FHIR JSON.
      const twice = doc.replace('"status":"final"', '"status":"preliminary","status":"final"');
      expect(twice).not.toBe(doc);
      const res = await post('/discharge-letters', twice, KEY.hospital);
      expect400(res, /entry\[0\]\.resource\.status.*given more than once/);
      expect(res.body.issue[0].details.coding[0].code).toBe('duplicate-property');
      // The same value twice is refused as well: the gateway does not judge which copy was meant.
      expect400(await post('/send-to-own-gp', '{"title":"a","title":"a"}', KEY.hospital, 'application/json'), /title/);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('refuses a "%s" key', async (key) => {
      const doc = documentExample();
      doc.entry[0].resource.status = { [key]: 'x' };
      const text = JSON.stringify(doc).replace('"status":{}', `"status":{"${key}":"x"}`);
      const res = await post('/discharge-letters', text, KEY.hospital);
      expect400(res, new RegExp(`entry\\[0\\]\\.resource\\.status.*${key}`));
    });

    it('refuses an empty or blank string in native JSON (was mapped into invalid FHIR and delivered)', async () => {
      const note = example('/send-to-own-gp', 'progress-note') as Json;
      expect400(await post('/send-to-own-gp', { ...note, title: ' ' }, KEY.hospital, 'application/json'), /^title/);
      expect400(await post('/send-to-own-gp', { ...note, text: '' }, KEY.hospital, 'application/json'), /text/);
    });

    it('refuses a body that is not a JSON object', async () => {
      expect400(await post('/send-to-own-gp', '[1,2]', KEY.hospital, 'application/json'), /expected a JSON object/);
    });
  });

  describe('FHIR rules medplum leaves out', () => {
    it('refuses 2026-02-30 in a FHIR document, naming the element', async () => {
      const doc = documentExample();
      doc.entry[0].resource.date = '2026-02-30T10:00:00+01:00';
      const res = await post('/discharge-letters', doc, KEY.hospital);
      expect400(res, /Bundle\.entry\[0\]\.resource\.date.*not a date in the calendar/);
    });

    it('refuses 2026-02-30 in a Consent and a sick-leave document', async () => {
      const consent = example('/fhir/Consent', 'jobcentre-permit') as Json;
      consent.dateTime = '2026-02-30';
      expect400(await post('/fhir/Consent', consent, KEY.jobcentre), /Consent\.dateTime.*2026-02-30/);
    });

    it('refuses a native deadline on a day that does not exist (new Date() rolled it over to 2 March)', async () => {
      const request = example('/status-report-requests', 'lae285-with-own-question') as Json;
      request.deadline = '2027-02-30T12:00:00+01:00';
      const res = await post('/status-report-requests', request, KEY.jobcentre, 'application/json');
      expect(res.status).toBe(422); // how the status-report service answers every deadline problem
      expect(res.body.issue[0].expression).toEqual(['deadline']);
      expect(res.body.issue[0].details.coding[0].code).toBe('invalid-deadline');
    });

    it('refuses script and event attributes in a narrative, naming the element', async () => {
      const doc = documentExample();
      doc.entry[0].resource.text.div =
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>ok</p><script>alert(1)</script><p onclick="alert(1)">x</p></div>';
      const res = await post('/discharge-letters', doc, KEY.hospital);
      expect400(res, /Bundle\.entry\[0\]\.resource\.text\.div.*<script>.*onclick/);
    });

    it('refuses an image fetched from elsewhere in a narrative', async () => {
      const doc = documentExample();
      doc.entry[0].resource.text.div =
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>x<img src="https://tracker.example/p.gif"/></p></div>';
      expect400(await post('/discharge-letters', doc, KEY.hospital), /text\.div.*image/);
    });

    it('delivers a decimal written 0.60 as 0.60', async () => {
      const doc = documentExample();
      doc.entry.push({
        fullUrl: 'urn:uuid:5b0c6a4e-9a36-4c1f-8f55-3f0f3b8f0a60',
        resource: {
          resourceType: 'Observation',
          id: '5b0c6a4e-9a36-4c1f-8f55-3f0f3b8f0a60',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '2160-0' }] },
          subject: doc.entry[0].resource.subject,
          valueQuantity: { value: 'DECIMAL', unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
        },
      });
      const before = gp.unique.size;
      const res = await post('/discharge-letters', JSON.stringify(doc).replace('"DECIMAL"', '0.60'), KEY.hospital);
      expect(res.status).toBe(202);
      await gp.waitFor(before + 1);
      const delivered = [...gp.unique.values()].at(-1)!;
      expect(delivered.text).toContain('"value":0.60');
      expect(delivered.text).not.toContain('"value":0.6,');
    });
  });

  describe('wrong JSON types are 400s naming the element, never 500s', () => {
    it('a Subscription whose _criteria.extension is an object', async () => {
      const sub = example('/fhir/Subscription', 'all-listed-patients') as Json;
      sub._criteria = { extension: {} };
      expect400(await post('/fhir/Subscription', sub, KEY.gp), /_criteria|criteria/);
    });

    it('a Subscription that is not valid R4 is not stored', async () => {
      const sub = example('/fhir/Subscription', 'all-listed-patients') as Json;
      sub.colour = 'blue'; // not an R4 Subscription element: was stored and handed back
      expect400(await post('/fhir/Subscription', sub, KEY.gp), /colour/);
      const stored = await t.db.query('SELECT id FROM subscriptions');
      expect(stored).toHaveLength(0);
    });

    it('a Task whose input is an object', async () => {
      const task = example('/status-report-requests', 'task-with-contained-questionnaire') as Json;
      task.input = {};
      expect400(await post('/status-report-requests', task, KEY.jobcentre), /input/);
    });

    it('a QuestionnaireResponse whose answer is an object', async () => {
      const created = await post(
        '/status-report-requests',
        { patient: { cpr: '0101901234' }, questionSet: 'LAE125', reason: 'Eksempel på en anmodning.' },
        KEY.jobcentre,
        'application/json',
      );
      expect(created.status).toBe(202);
      const qr = example('/status-report-requests/{id}/response', 'questionnaire-response') as Json;
      qr.item = [{ linkId: 'patient-known', answer: {} }];
      expect400(await post(`/status-report-requests/${created.body.id as string}/response`, qr, KEY.gp), /answer/);
    });

    it.each([
      ['Composition.section as an object', (d: Json) => (d.entry[0].resource.section = {}), /section/],
      ['an entry whose resource is false', (d: Json) => (d.entry[1].resource = false), /entry\[1\]\.resource/],
      ['a null entry', (d: Json) => d.entry.push(null), /entry/],
    ])('a document with %s', async (_name, change, where) => {
      for (const [path, body] of [
        ['/discharge-letters', documentExample()],
        ['/send-to-own-gp', example('/send-to-own-gp', 'progress-note-document')],
        ['/sick-leave-certificates', example('/sick-leave-certificates', 'ended-sick-leave-document')],
        ['/$convert', documentExample()],
      ] as const) {
        const doc = body as Json;
        change(doc);
        expect400(await post(path, doc, path === '/sick-leave-certificates' ? KEY.gp : KEY.hospital), where);
      }
    });
  });

  it("a directory batch entry whose identifier is an object is that entry's 400 (was a 500 for the whole load)", async () => {
    const batch = example('/fhir', 'batch') as Json;
    const org = batch.entry.findIndex((e: Json) => e.resource?.resourceType === 'Organization');
    expect(org).toBeGreaterThanOrEqual(0);
    batch.entry[org].resource.identifier = batch.entry[org].resource.identifier[0];
    const res = await post('/fhir', batch, KEY.admin);
    expect(res.status).toBe(200);
    expect(res.body.entry[org].response.status).toMatch(/^400/);
    expect(JSON.stringify(res.body.entry[org].response.outcome)).toMatch(/identifier/);
  });

  describe('acknowledgements', () => {
    const ackFor = (identifier: string, details?: boolean): Bundle => {
      const ack = example('/fhir/$process-message', 'fatal') as Bundle;
      const header = ack.entry![0]!.resource as MessageHeader;
      header.response = { identifier, code: 'ok' };
      if (details) {
        header.response.details = { reference: ack.entry![1]!.fullUrl! };
        delete (ack.entry![1]!.resource as Json).issue;
      }
      return ack;
    };

    it('refuses a malformed response.identifier with 400 (was 500)', async () => {
      expect400(await post('/fhir/$process-message', ackFor('x'), KEY.gp), /response\.identifier/);
    });

    it('takes a urn:uuid: identifier for the message it acknowledges', async () => {
      const before = gp.unique.size;
      const sent = await post(
        '/send-to-own-gp',
        example('/send-to-own-gp', 'progress-note'),
        KEY.hospital,
        'application/json',
      );
      expect(sent.status).toBe(202);
      await gp.waitFor(before + 1);
      const header = [...gp.unique.values()].at(-1)!.bundle.entry![0]!.resource as MessageHeader;
      const res = await post('/fhir/$process-message', ackFor(`urn:uuid:${header.id!}`), KEY.gp);
      expect(res.body.issue?.[0]?.diagnostics).toMatch(/recorded/);
      expect(res.status).toBe(200);
    });

    it('refuses an OperationOutcome without issue with 400 (was 500)', async () => {
      expect400(
        await post('/fhir/$process-message', ackFor('7d4f8a66-1c0e-4d5b-9a1e-2f3b4c5d6e7f', true), KEY.gp),
        /issue/,
      );
    });
  });
});
