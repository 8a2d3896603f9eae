import type { Bundle, MessageHeader } from 'fhir/r4';
import { type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { openApiDocument, requestExamples } from '../../src/validation/request-schemas';
import { SYSTEM } from '../../src/mappers/systems';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { careManagerDirectory } from '../helpers/symptom-reports';
import { KEY, eventually, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * The contract stays true: every request example in openapi.yaml is accepted by the running gateway with a
 * 2xx, sent by a client of the first role the operation lists in x-roles.
 */
type Role = keyof typeof KEY;
const roleOf = (path: string, method: string): Role => {
  const op = openApiDocument().paths[path]?.[method.toLowerCase()];
  const role = op?.['x-roles']?.[0] ?? 'admin';
  return (role in KEY ? role : 'admin') as Role;
};

describe('openapi.yaml request examples', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
    // The CareTeam example names the demo care manager's team, which must be in the directory.
    await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(careManagerDirectory('265161000016011', 'Opfølgningsteamet', `${gp.url}/caremanager`))
      .expect(200);
    // Status-report requests need the citizen's consent for the demo jobcentre.
    // Status reports and certificates need the citizen's consent for the demo jobcentre (and the employer copy, the employer's).
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
    const employer = consentFor(
      'permit',
      { system: SYSTEM.cvr, value: '12345678' },
      {
        purpose: purposes('employer-certificate'),
        class: dataClasses('sick-leave-minimal', 'functional-capacity', 'expected-duration'),
      },
    );
    await t.http
      .post('/fhir/Consent')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify(employer))
      .expect(201);
  });

  /** A fresh LÆ 125 request; answered too when the example needs an answered one (follow-up). */
  const statusReport = async (answered: boolean): Promise<string> => {
    const created = await t.http
      .post('/status-report-requests')
      .set('Authorization', `Bearer ${KEY.jobcentre}`)
      .send({ patient: { cpr: '0101901234' }, questionSet: 'LAE125', reason: 'Eksempel på en anmodning.' });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    if (answered) {
      await t.http
        .post(`/status-report-requests/${id}/response`)
        .set('Authorization', `Bearer ${KEY.gp}`)
        .send({ answers: { 'patient-known': false } })
        .expect(202);
    }
    return id;
  };

  /** A dead letter: the GP answers 500 until the delivery gives up. */
  const deadLetter = async (): Promise<string> => {
    gp.behaviour = { kind: 'status', status: 500 };
    try {
      const sent = await t.http
        .post('/send-to-own-gp')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send({
          patient: { cpr: '0101901234' },
          title: 't',
          text: 'x',
          author: { name: 'a', organization: { sor: '265161000016004' } },
        });
      expect(sent.status).toBe(202);
      return await eventually(
        async () => {
          const tracking = await t.http
            .get(`/messages/${sent.body.id as string}`)
            .set('Authorization', `Bearer ${KEY.admin}`);
          return tracking.body.status === 'dead' ? (tracking.body.deliveries[0].id as string) : undefined;
        },
        15000,
        'a dead letter',
      );
    } finally {
      gp.behaviour = { kind: 'ack', code: 'ok' };
    }
  };

  /** Dated examples stay valid: deadlines move to a month from now. */
  const withFutureDeadline = (body: unknown): unknown => {
    const copy = structuredClone(body) as {
      deadline?: string;
      restriction?: { period?: { end?: string } };
      period?: { from: string; expectedTo: string };
    };
    const later = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
    if (copy && typeof copy === 'object' && copy.deadline) {
      copy.deadline = later.slice(0, 10);
    }
    if (copy?.period?.from) {
      copy.period = { from: new Date().toISOString().slice(0, 10), expectedTo: later.slice(0, 10) };
    }
    if (copy?.restriction?.period?.end) {
      copy.restriction.period.end = later;
    }
    return copy;
  };

  /**
   * The FHIR certificate example describes a sick leave that ended the day before 2026-11-28, so it cannot
   * overlap the native example's period (today onwards): every date in it moves by the days since then.
   */
  const WRITTEN = Date.parse('2026-11-28T00:00:00Z');
  const shiftDates = (value: unknown, days: number): unknown => {
    if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
      const moved = new Date(Date.parse(value) + days * 24 * 3600 * 1000).toISOString();
      return value.length === 10 ? moved.slice(0, 10) : moved;
    }
    if (Array.isArray(value)) {
      return value.map((v) => shiftDates(v, days));
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftDates(v, days)]));
    }
    return value;
  };

  afterAll(async () => {
    await close();
  });

  const examples = requestExamples();

  it('has examples for every operation that takes a body', () => {
    const withBody = Object.entries(openApiDocument().paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const covered = new Set(examples.map((e) => `${e.method} ${e.path}`));
    expect(withBody.filter((op) => !covered.has(op))).toEqual([]);
  });

  it.each(examples.map((e) => [`${e.method} ${e.path} ${e.contentType} ${e.name}`, e] as const))(
    'accepts %s',
    async (_label, example) => {
      let path = example.path;
      let body = withFutureDeadline(example.value);
      if (path === '/sick-leave-certificates' && example.contentType === 'application/fhir+json') {
        body = shiftDates(example.value, Math.floor((Date.now() - WRITTEN) / (24 * 3600 * 1000)));
      }
      if (path.startsWith('/status-report-requests/{id}')) {
        path = path.replace('{id}', await statusReport(path.endsWith('/follow-up')));
      }
      if (path === '/sick-leave-certificates/{id}/cancel') {
        const current = await t.db.query<{ id: string }>(
          "SELECT id FROM certificates WHERE status = 'current' ORDER BY created_at DESC LIMIT 1",
        );
        expect(current).toHaveLength(1);
        path = path.replace('{id}', current[0]!.id);
      }
      if (path === '/fhir/Subscription/{id}') {
        const created = await t.http
          .post('/fhir/Subscription')
          .set('Authorization', `Bearer ${KEY.gp}`)
          .set('Content-Type', 'application/fhir+json')
          .send(JSON.stringify(body));
        expect(created.status).toBe(201);
        path = `/fhir/Subscription/${created.body.id as string}`;
      }
      if (path.includes('{deliveryId}')) {
        path = path.replace('{deliveryId}', await deadLetter());
      }
      if (path === '/fhir/Consent/{id}') {
        const created = await t.http
          .post('/fhir/Consent')
          .set('Authorization', `Bearer ${KEY.jobcentre}`)
          .set('Content-Type', 'application/fhir+json')
          .send(JSON.stringify(body));
        expect(created.status).toBe(201);
        path = `/fhir/Consent/${created.body.id as string}`;
      }
      if (path.startsWith('/planning-meetings')) {
        // The examples' meeting times are in June 2027: moved so they stay in the future.
        const days = Math.max(0, Math.ceil((Date.now() + 30 * 24 * 3600 * 1000 - Date.parse('2027-06-01')) / 86400000));
        body = shiftDates(body, days);
        if (path.startsWith('/planning-meetings/{id}')) {
          const proposal = requestExamples().find((e) => e.path === '/planning-meetings' && e.method === 'POST');
          const created = await t.http
            .post('/planning-meetings')
            .set('Authorization', `Bearer ${KEY.hospital}`)
            .send(shiftDates(proposal?.value, days) as object);
          expect(created.status).toBe(201);
          const id = created.body.id as string;
          if (path.endsWith('/plan')) {
            await t.http
              .post(`/planning-meetings/${id}/$book`)
              .set('Authorization', `Bearer ${KEY.hospital}`)
              .send(created.body.timeOptions[0] as object)
              .expect(200);
          }
          path = path.replace('{id}', id);
          body = JSON.parse(JSON.stringify(body).replace('Appointment/{id}', `Appointment/${id}`)) as unknown;
        }
      }
      const medcomMessage =
        (body as Bundle | undefined)?.entry?.[0]?.resource?.resourceType === 'MessageHeader' &&
        ((body as Bundle).entry?.[0]?.resource as MessageHeader).eventCoding?.code === 'care-communication-message';
      if (path === '/fhir/$process-message' && !medcomMessage) {
        // An acknowledgement must name a message this gateway sent to the acknowledging organisation.
        const before = gp.unique.size;
        const sent = await t.http
          .post('/send-to-own-gp')
          .set('Authorization', `Bearer ${KEY.hospital}`)
          .send({
            patient: { cpr: '0101901234' },
            title: 't',
            text: 'x',
            author: { name: 'a', organization: { sor: '265161000016004' } },
          });
        expect(sent.status).toBe(202);
        await gp.waitFor(before + 1);
        const header = [...gp.unique.values()].at(-1)?.bundle.entry?.[0]?.resource as MessageHeader;
        const ack = structuredClone(body) as Bundle;
        (ack.entry?.[0]?.resource as MessageHeader).response = { identifier: header.id ?? '', code: 'fatal-error' };
        body = ack;
      }
      const role = path.startsWith('/fhir/$process-message') ? 'gp' : roleOf(example.path, example.method);
      const send = example.method === 'PUT' ? t.http.put(path) : t.http.post(path);
      // A form post comes from the gateway's own sign-in page, as a browser's fetch metadata says (the CSRF rule).
      if (example.contentType === 'application/x-www-form-urlencoded') {
        void send.set('Sec-Fetch-Site', 'same-origin');
      }
      const res = await send
        .set('Authorization', `Bearer ${KEY[role]}`)
        .set('Content-Type', example.contentType)
        .send(typeof body === 'string' ? body : JSON.stringify(body));
      // A form post answered with a documented redirect (sign-in, sign-out) is accepted too.
      const redirects = Boolean(
        openApiDocument().paths[example.path]?.[example.method.toLowerCase()]?.responses?.['303'],
      );
      const ok = res.status < 300 || (redirects && res.status === 303);
      if (!ok) {
        throw new Error(`${res.status}: ${JSON.stringify(res.body)}`);
      }
      expect(ok).toBe(true);
    },
  );
});
