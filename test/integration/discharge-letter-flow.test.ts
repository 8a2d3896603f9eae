import type { Bundle, Composition, MessageHeader } from 'fhir/r4';
import { type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { getDefaultValidator } from '../../src/validation';
import { GP_SOR, PATIENT_CPR } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, eventually, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/** The foundation's promise end to end: a hospital posts a letter, the patient's own GP system receives it. */

describe('discharge letter to the own GP, end to end', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  beforeEach(() => {
    gp.behaviour = { kind: 'ack', code: 'ok' };
  });

  it('accepts a native letter with 202 and a tracking id, and the GP receives a valid profiled message', async () => {
    const before = gp.unique.size;
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/messages/${res.body.id as string}`);
    expect(res.body.status).toBe('accepted');
    expect(res.body.outcome.resourceType).toBe('OperationOutcome');

    await gp.waitFor(before + 1);
    const received = [...gp.unique.values()].at(-1)!;
    expect(received.path).toBe('/$process-message');
    const bundle = received.bundle;
    expect(bundle.type).toBe('message');
    const header = bundle.entry?.[0]?.resource as MessageHeader;
    expect(header.resourceType).toBe('MessageHeader');
    expect(header.destination?.[0]?.receiver?.identifier?.value ?? JSON.stringify(bundle)).toContain(GP_SOR);
    expect(header.source.endpoint).toBe('http://gateway.test/fhir');
    const composition = bundle.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource as Composition;
    expect(composition.type.coding?.[0]?.code).toBe('18842-5');
    expect(JSON.stringify(bundle)).toContain(PATIENT_CPR);
    const issues = getDefaultValidator()
      .validate(bundle)
      .filter((i) => i.severity === 'error');
    expect(issues).toEqual([]);

    const tracking = await eventually(async () => {
      const r = await t.http.get(`/messages/${res.body.id as string}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? r.body : undefined;
    });
    expect(tracking.deliveries).toHaveLength(1);
    expect(tracking.deliveries[0]).toMatchObject({
      status: 'delivered',
      attempts: 1,
      recipient: { sor: GP_SOR },
      lastError: null,
    });
    expect(tracking.messageHeaderId).toBe(header.id);

    const audit = await t.db.query<{ action: string; patient_cpr: string }>(
      'SELECT action, patient_cpr FROM audit_events WHERE message_id = $1',
      [res.body.id],
    );
    expect(audit).toEqual([{ action: 'delivered', patient_cpr: PATIENT_CPR }]);
  });

  it('reports what a GP needs and the letter lacks, both to the sender and in the delivered letter', async () => {
    const letter = nativeLetter();
    delete letter.followUp;
    delete letter.contact;
    const before = gp.unique.size;
    const res = await t.http.post('/discharge-letters').set('Authorization', `Bearer ${KEY.hospital}`).send(letter);
    expect(res.status).toBe(202);
    const warnings = (
      res.body.outcome.issue as Array<{ severity: string; details?: { coding?: Array<{ code: string }> } }>
    ).filter((i) => i.severity === 'warning');
    const codes = warnings.map((w) => w.details?.coding?.[0]?.code);
    expect(codes).toEqual(expect.arrayContaining(['missing-follow-up-plan', 'missing-responsible-contact']));
    await gp.waitFor(before + 1);
    const delivered = JSON.stringify([...gp.unique.values()].at(-1)!.bundle);
    expect(delivered).toContain('incomplete');
  });

  it('accepts a FHIR document Bundle and delivers it to the GP named in Patient.generalPractitioner', async () => {
    const first = gp.unique.size;
    const converted = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(converted.status).toBe(202);
    await gp.waitFor(first + 1);
    const message = [...gp.unique.values()].at(-1)!;
    // Re-send the Composition and its resources as a document Bundle, the way a FHIR-speaking EHR would.
    const document: Bundle = {
      resourceType: 'Bundle',
      type: 'document',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c5d3d8e-6f41-4a59-9d0b-6c1f0e2f9a11' },
      timestamp: '2026-11-20T10:00:00Z',
      entry: (message.bundle.entry ?? [])
        .filter((e) => !['MessageHeader', 'Provenance'].includes(e.resource?.resourceType ?? ''))
        .sort((a) => (a.resource?.resourceType === 'Composition' ? -1 : 0)),
    };
    const before = gp.unique.size;
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(document));
    expect(res.status).toBe(202);
    await gp.waitFor(before + 1);
  });
});
