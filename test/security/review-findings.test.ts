import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { createFhirRegistry } from '../../src/directory/registry';
import { SYSTEM } from '../../src/mappers/systems';
import { connectionRefusal, outboundPolicy, urlRefusal } from '../../src/outbound/address-policy';
import {
  createOutboundDispatcher,
  OutboundRefusedError,
  type HostResolver,
} from '../../src/outbound/outbound-dispatcher';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import { GP_SOR, JOBCENTRE_MUNICIPALITY, municipalityAddress } from '../helpers/directory-fixture';
import { sickLeaveCertificate } from '../helpers/fixtures';
import { KEY, eventually, startGatewayWithGp, startTestGateway } from '../helpers/test-gateway';

/**
 * Findings of an attack review of issue 12 (consent, minimisation, oracles, logs, limits), each as the attacker
 * tried it against a whole gateway. Workers are off: deliveries stay pending, as they do while a recipient's
 * endpoint is down or the queue is behind, which is when a consent can change before the push.
 */
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')!.apiKey;
const JOBCENTRE = { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY };

describe('security: review findings', () => {
  let setup: Awaited<ReturnType<typeof startGatewayWithGp>>;
  beforeAll(async () => {
    setup = await startGatewayWithGp({ env: { RUN_WORKERS: 'false' } });
  });
  afterAll(async () => {
    await setup.close();
  });
  const as = (key: string) => ({
    post: (path: string, body: unknown, type = 'application/fhir+json') =>
      setup.t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', type)
        .send(JSON.stringify(body)),
    get: (path: string) => setup.t.http.get(path).set('Authorization', `Bearer ${key}`),
    delete: (path: string) => setup.t.http.delete(path).set('Authorization', `Bearer ${key}`),
  });
  const newPatient = async () => {
    const cpr = `4444${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
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
            request: { method: 'PUT', url: `Patient?identifier=${SYSTEM.cpr}|${cpr}` },
          },
        ],
      })
      .expect(200);
    return cpr;
  };

  it('a role a document route refuses gets only the small body limit there (it cannot make the gateway read 1 MB)', async () => {
    // An employer or a patient may not post documents at all, yet was given the document limit (10 MiB): three
    // 9 MB bodies from the employer held /health/live for 8 s while they were read and parsed, then got 403.
    const big = JSON.stringify({
      patient: { cpr: '0101901234' },
      notes: Array.from({ length: 1000 }, () => 'x'.repeat(1000)),
    });
    for (const [key, path] of [
      [KEY.employer, '/discharge-letters'],
      [PATIENT_KEY, '/send-to-own-gp'],
      [KEY.jobcentre, '/$convert'],
      [KEY.gp, '/discharge-letters'],
      [KEY.gp, '/fhir'],
    ] as const) {
      const res = await setup.t.http
        .post(path)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/json')
        .send(big);
      expect({ path, status: res.status }).toEqual({ path, status: 413 });
    }
    // The roles the route is for keep their limit.
    const hospital = await setup.t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'application/json')
      .send(big);
    expect(hospital.status).not.toBe(413);
  });

  it('a recipient cannot read a Bundle the patient withdrew consent for before it was delivered', async () => {
    const cpr = await newPatient();
    const permit = await as(KEY.admin).post(
      '/fhir/Consent',
      consentFor(
        'permit',
        JOBCENTRE,
        {
          purpose: purposes('sickness-benefit-follow-up'),
          class: dataClasses('sick-leave-minimal', 'functional-capacity', 'expected-duration'),
        },
        cpr,
      ),
    );
    expect(permit.status).toBe(201);
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 20 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const certificate = await as(KEY.gp).post(
      '/sick-leave-certificates',
      sickLeaveCertificate(cpr, { from: today, expectedTo: later }),
      'application/json',
    );
    expect(certificate.status).toBe(202);
    expect((await as(KEY.admin).delete(`/fhir/Consent/${permit.body.id as string}`)).status).toBe(200);

    // The jobcentre finds the (undelivered) delivery in its inbox, or guesses nothing: the id is in the database.
    const rows = await setup.t.db.query<{ id: string; status: string }>(
      'SELECT d.id, d.status FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.patient_cpr = $1',
      [cpr],
    );
    expect(rows.length).toBe(1);
    expect(rows[0]!.status).not.toBe('delivered');
    const read = await as(KEY.jobcentre).get(`/fhir/Bundle/${rows[0]!.id}`);
    expect(read.status).toBe(404);
    expect(JSON.stringify(read.body)).not.toContain('tidspres');
  });

  it("a blocked delivery (consent withdrawn after intake) is not in the recipient's inbox", async () => {
    const cpr = await newPatient();
    const permit = await as(KEY.admin).post(
      '/fhir/Consent',
      consentFor(
        'permit',
        JOBCENTRE,
        {
          purpose: purposes('sickness-benefit-follow-up'),
          class: dataClasses('sick-leave-minimal', 'functional-capacity', 'expected-duration'),
        },
        cpr,
      ),
    );
    const today = new Date().toISOString().slice(0, 10);
    const later = new Date(Date.now() + 20 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const certificate = await as(KEY.gp).post(
      '/sick-leave-certificates',
      sickLeaveCertificate(cpr, { from: today, expectedTo: later }),
      'application/json',
    );
    expect(certificate.status).toBe(202);
    expect((await as(KEY.admin).delete(`/fhir/Consent/${permit.body.id as string}`)).status).toBe(200);
    // A second gateway on the same database runs the workers: the pre-delivery check blocks the delivery.
    const worker = await startTestGateway({ db: setup.t.db, env: { QUEUE_PREFIX: setup.t.config.queuePrefix } });
    try {
      const [message] = await eventually(async () => {
        const rows = await setup.t.db.query<{ id: string }>(
          `SELECT m.id FROM messages m JOIN deliveries d ON d.message_id = m.id WHERE m.patient_cpr = $1 AND d.status = 'blocked'`,
          [cpr],
        );
        return rows.length > 0 ? rows : undefined;
      });
      const inbox = await worker.http
        .get(`/messages?side=received&patient=${cpr}`)
        .set('Authorization', `Bearer ${KEY.jobcentre}`);
      expect(inbox.status).toBe(200);
      expect(inbox.body.items).toEqual([]);
      const item = await worker.http.get(`/messages/${message!.id}`).set('Authorization', `Bearer ${KEY.jobcentre}`);
      expect(item.status).toBe(404);
    } finally {
      await worker.close();
    }
  });
});

describe('security: review findings, outbound', () => {
  it("refuses the gateway's own port on this host's non-loopback interface addresses, even where private addresses are allowed", () => {
    // The instance (a rest-hook at the gateway's own /dead-letters/$replay with an admin key) through the
    // host's unique-local or private address: loopback was refused, http://[fd00::2]:8080/ was sent to.
    const policy = outboundPolicy({
      allowPrivate: true,
      allow: [],
      publicBaseUrl: 'http://gateway.test',
      port: 8080,
      localAddresses: ['127.0.0.1', '::1', '10.1.2.3', 'fd00::2', 'fe80::1%eth0'],
    });
    for (const address of ['fd00::2', 'fd00:0:0::2', '10.1.2.3', '::ffff:10.1.2.3', 'fe80::1']) {
      expect({ address, refused: connectionRefusal(address, 8080, policy) }).toEqual({
        address,
        refused: expect.stringMatching(/gateway itself/),
      });
    }
    expect(urlRefusal(new URL('http://[fd00::2]:8080/dead-letters/$replay'), policy)).toMatch(/gateway itself/);
    expect(urlRefusal(new URL('http://10.1.2.3:8080/dead-letters/$replay'), policy)).toMatch(/gateway itself/);
    // Other ports of the host and other private addresses stay as the configuration says.
    expect(connectionRefusal('fd00::2', 8090, policy)).toBeUndefined();
    expect(connectionRefusal('10.9.9.9', 8080, policy)).toBeUndefined();
    // By default the policy knows this host's interfaces.
    const own = outboundPolicy({ allowPrivate: true, allow: [], publicBaseUrl: 'http://gateway.test', port: 8080 });
    expect(own.selfAddresses.size).toBeGreaterThan(0);
  });
});

describe('security: review findings, the patient registry', () => {
  it('does not follow a redirect from REGISTRY_FHIR_URL (it would take the CPR anywhere, past the address policy)', async () => {
    const elsewhere: string[] = [];
    const target = createServer((req, res) => {
      elsewhere.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as AddressInfo).port;
    const registry = createServer((req, res) => {
      res.writeHead(302, { Location: `http://127.0.0.1:${targetPort}/latest/meta-data${req.url ?? ''}` });
      res.end();
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    try {
      const policy = outboundPolicy({ allowPrivate: true, allow: [], publicBaseUrl: 'http://gateway.test', port: 1 });
      const lookUp = createFhirRegistry(`http://127.0.0.1:${(registry.address() as AddressInfo).port}/fhir`, {
        policy,
        dispatcher: createOutboundDispatcher(policy),
      });
      await expect(lookUp.lookUpGeneralPractitioner('0101901234')).rejects.toMatchObject({ status: 503 });
      expect(elsewhere).toEqual([]);
    } finally {
      await new Promise((r) => registry.close(r));
      await new Promise((r) => target.close(r));
    }
  });
});

describe('security: the patient registry goes through the checked outbound dispatcher', () => {
  // A name that resolves to loopback, as a rebinding or hostile DNS answer would make it.
  const toLoopback: HostResolver = (_host, _options, callback) => {
    callback(null, [{ address: '127.0.0.1', family: 4 }]);
  };
  const registryServer = async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'searchset',
          entry: [
            {
              resource: {
                resourceType: 'Patient',
                generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: GP_SOR } }],
              },
            },
          ],
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { asked, server, port: (server.address() as AddressInfo).port };
  };
  const policy = (allowPrivate: boolean) =>
    outboundPolicy({ allowPrivate, allow: [], publicBaseUrl: 'http://gateway.test', port: 1 });

  it('resolves the registry host name with the dispatcher and refuses a private answer, sending nothing', async () => {
    const { asked, server, port } = await registryServer();
    try {
      const strict = policy(false);
      const lookUp = createFhirRegistry(`http://registry.test:${port}/fhir`, {
        policy: strict,
        dispatcher: createOutboundDispatcher(strict, toLoopback),
      });
      await expect(lookUp.lookUpGeneralPractitioner('0101901234')).rejects.toMatchObject({ status: 503 });
      expect(asked).toEqual([]);
      // The same name through a dispatcher whose policy allows loopback: reached, so the name was resolved by the
      // dispatcher's resolver (the system resolver does not know registry.test).
      const lenient = policy(true);
      const allowed = createFhirRegistry(`http://registry.test:${port}/fhir`, {
        policy: lenient,
        dispatcher: createOutboundDispatcher(lenient, toLoopback),
      });
      await expect(allowed.lookUpGeneralPractitioner('0101901234')).resolves.toEqual({ gpSor: GP_SOR });
      expect(asked).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a registry URL the policy refuses before any request (localhost, a literal private address)', () => {
    const strict = policy(false);
    const access = { policy: strict, dispatcher: createOutboundDispatcher(strict) };
    expect(() => createFhirRegistry('http://localhost:8080/fhir', access)).toThrow(OutboundRefusedError);
    expect(() => createFhirRegistry('http://169.254.169.254/fhir', access)).toThrow(OutboundRefusedError);
  });
});
