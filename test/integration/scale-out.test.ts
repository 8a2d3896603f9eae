import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { SYSTEM } from '../../src/mappers/systems';
import type { Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrate';
import { openPostgresDb } from '../../src/store/postgres-db';
import { consentFor, dataClasses, purposes } from '../helpers/consents';
import {
  EMPLOYER_CVR,
  GP_SOR,
  JOBCENTRE_MUNICIPALITY,
  directoryBundle,
  municipalityAddress,
} from '../helpers/directory-fixture';
import { nativeLetter, sickLeaveCertificate } from '../helpers/fixtures';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Scale-out (issue 16): four gateways on one PostgreSQL and one Redis, each with its own connection pool, lookup
 * cache and LISTEN connection, as separate replicas would have. A and B take intake only (RUN_WORKERS=false);
 * W1 and W2 run the outbox relay and the delivery workers. Every letter reaches the GP exactly once, and a
 * change made through A (directory, consent) is seen by B's and the workers' next decision although each has
 * the old answer cached. Needs PostgreSQL: jest.config.js collects this file only when DATABASE_URL is set
 * (PGlite is one process's database, so a single gateway process is the only deployment it has).
 */
const url = process.env.DATABASE_URL ?? '';
const PATIENT_KEY = DEMO_CLIENTS.find((c) => c.role === 'patient')?.apiKey ?? '';
const MINIMAL = ['sick-leave-minimal', 'functional-capacity', 'expected-duration'];
const day = (offset: number) => new Date(Date.now() + offset * 24 * 3600 * 1000).toISOString().slice(0, 10);

describe('several gateway processes on one PostgreSQL and one Redis', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const pools: Db[] = [];
  const servers: Server[] = [];
  let gp: MessageReceiver;
  let movedGp: MessageReceiver;
  let jobcentre: MessageReceiver;
  let employer: MessageReceiver;
  let a: TestGateway;
  let b: TestGateway;
  let w1: TestGateway;
  let w2: TestGateway;
  /** Base URLs of A and B listening on loopback, so posts really race over HTTP. */
  let baseA: string;
  let baseB: string;

  const pool = (): Db => {
    const db = openPostgresDb(url, { schema, max: 5 });
    pools.push(db);
    return db;
  };
  const listen = async (t: TestGateway): Promise<string> => {
    const server = t.gateway.app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const post = async (base: string, path: string, key: string, body: unknown, type = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': type },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { id: string; messages?: unknown } };
  };
  const tracking = async (t: TestGateway, id: string, key = KEY.hospital) =>
    (await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${key}`)).body as {
      status: string;
      deliveries: Array<{ status: string; endpoint: string; lastError: string | null }>;
    };

  beforeAll(async () => {
    const admin = openPostgresDb(url, { max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.close();
    const first = pool();
    await migrate(first);
    [gp, movedGp, jobcentre, employer] = await Promise.all([
      startMessageReceiver(),
      startMessageReceiver(),
      startMessageReceiver(),
      startMessageReceiver(),
    ]);
    // A long delivery timeout: four gateways share this process, and a send timed out on a loaded machine would
    // be sent again (at-least-once, same MessageHeader.id), which the exactly-once count below must not see.
    const env = (runWorkers: boolean) => ({
      QUEUE_PREFIX: prefix,
      RUN_WORKERS: String(runWorkers),
      DELIVERY_TIMEOUT_MS: '60000',
    });
    a = await startTestGateway({ db: first, env: env(false) });
    b = await startTestGateway({ db: pool(), env: env(false) });
    w1 = await startTestGateway({ db: pool(), env: env(true) });
    w2 = await startTestGateway({ db: pool(), env: env(true) });
    baseA = await listen(a);
    baseB = await listen(b);
    const loaded = await post(
      baseA,
      '/fhir',
      KEY.admin,
      directoryBundle(gp.url, { jobcentreAddress: jobcentre.url, employerAddress: employer.url }),
    );
    expect(loaded.status).toBe(200);
  });

  afterAll(async () => {
    for (const server of servers) {
      server.close();
    }
    // Intake replicas first, then the workers; the last close empties the shared queue.
    for (const t of [a, b, w1, w2]) {
      await t?.close();
    }
    await Promise.all([gp, movedGp, jobcentre, employer].map((r) => r?.close()));
    await pools[0]?.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await Promise.all(pools.map((p) => p.close()));
  });

  it('delivers every letter taken by either intake replica exactly once, whichever worker process sends it', async () => {
    const n = 40;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        post(i % 2 === 0 ? baseA : baseB, '/discharge-letters', KEY.hospital, nativeLetter()),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 202));
    const ids = answers.map((r) => r.body.id);
    expect(new Set(ids).size).toBe(n);
    await eventually(() => Promise.resolve(gp.unique.size >= n ? true : undefined), 60000, `${n} letters at the GP`);
    // Every letter delivered, by one of the worker processes, and nothing sent twice.
    await eventually(
      async () => {
        const states = await Promise.all(ids.map(async (id) => (await tracking(a, id)).status));
        return states.every((s) => s === 'delivered') ? true : undefined;
      },
      30000,
      'every letter delivered',
    );
    expect(gp.received.length).toBe(n);
    expect(gp.unique.size).toBe(n);
    const rows = await pools[0]?.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'delivered' AND message_id = ANY($1::uuid[])",
      [ids],
    );
    expect(Number(rows?.[0]?.n)).toBe(n);
    // B answered most of its letters from its cache (the GP and the consents), not from the database.
    expect(b.gateway.lookups.stats.hits).toBeGreaterThan(0);
  });

  it("sends to the GP's new endpoint as soon as the directory is changed through another replica", async () => {
    const before = await post(baseB, '/discharge-letters', KEY.hospital, nativeLetter());
    expect((await tracking(b, before.body.id)).deliveries[0]?.endpoint).toBe(gp.url);
    const hits = b.gateway.lookups.stats.hits;
    const again = await post(baseB, '/discharge-letters', KEY.hospital, nativeLetter());
    expect(again.status).toBe(202);
    expect(b.gateway.lookups.stats.hits).toBeGreaterThan(hits);

    // The practice moves its endpoint, through A; B's very next letter goes to the new one.
    const [current] =
      (await pools[0]?.query<{ id: string }>('SELECT id FROM endpoints WHERE address = $1', [gp.url])) ?? [];
    const moved = await post(baseA, '/fhir', KEY.admin, {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:0e000000-0000-4000-8000-000000000001',
          resource: {
            resourceType: 'Organization',
            identifier: [{ system: SYSTEM.sor, value: GP_SOR }],
            name: 'Lægerne i Testby',
            active: true,
            endpoint: [{ reference: 'urn:uuid:0e000000-0000-4000-8000-000000000002' }],
          },
          request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.sor}|${GP_SOR}` },
        },
        {
          fullUrl: 'urn:uuid:0e000000-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Endpoint',
            status: 'active',
            connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
            payloadType: [{ text: 'FHIR message' }],
            address: movedGp.url,
            managingOrganization: { reference: 'urn:uuid:0e000000-0000-4000-8000-000000000001' },
          },
          request: { method: 'PUT', url: `Endpoint/${current?.id ?? ''}` },
        },
      ],
    });
    expect(moved.status).toBe(200);
    const after = await post(baseB, '/discharge-letters', KEY.hospital, nativeLetter());
    expect(after.status).toBe(202);
    expect((await tracking(b, after.body.id)).deliveries[0]?.endpoint).toBe(movedGp.url);
    await eventually(
      () => Promise.resolve(movedGp.unique.size === 1 ? true : undefined),
      30000,
      'the letter at the new endpoint',
    );
  });

  it("refuses at B's intake a letter the patient objected to through A, and takes it again once the objection is withdrawn", async () => {
    expect((await post(baseB, '/discharge-letters', KEY.hospital, nativeLetter())).status).toBe(202);
    const objection = await post(
      baseA,
      '/fhir/Consent',
      PATIENT_KEY,
      consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }),
      'application/fhir+json',
    );
    expect(objection.status).toBe(201);
    const refused = await post(baseB, '/discharge-letters', KEY.hospital, nativeLetter());
    expect(refused.status).toBe(403);

    const withdrawn = await fetch(`${baseA}/fhir/Consent/${objection.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${PATIENT_KEY}` },
    });
    expect(withdrawn.status).toBe(200);
    expect((await post(baseB, '/discharge-letters', KEY.hospital, nativeLetter())).status).toBe(202);
  });

  it('blocks at the worker a copy accepted through B when the consent is withdrawn through A while it waits', async () => {
    const cpr = '1111209999';
    const patient = await post(baseA, '/fhir', KEY.admin, {
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
          request: { method: 'POST', url: 'Patient' },
        },
      ],
    });
    expect(patient.status).toBe(200);
    const toJobcentre = consentFor(
      'permit',
      { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY },
      { purpose: purposes('sickness-benefit-follow-up'), class: dataClasses(...MINIMAL) },
      cpr,
    );
    expect((await post(baseA, '/fhir/Consent', KEY.jobcentre, toJobcentre, 'application/fhir+json')).status).toBe(201);
    const toEmployer = consentFor(
      'permit',
      { system: SYSTEM.cvr, value: EMPLOYER_CVR },
      { purpose: purposes('employer-certificate'), class: dataClasses(...MINIMAL) },
      cpr,
    );
    const employerConsent = await post(baseA, '/fhir/Consent', KEY.admin, toEmployer, 'application/fhir+json');
    expect(employerConsent.status).toBe(201);
    const certificate = (from: number) =>
      sickLeaveCertificate(cpr, { from: day(from), expectedTo: day(from + 5) }, { employer: { cvr: EMPLOYER_CVR } });
    const employerCopy = (answer: { messages?: unknown }) =>
      (answer.messages as Array<{ id: string; recipient: { value: string } }>).find(
        (m) => m.recipient.value === EMPLOYER_CVR,
      );

    // A first certificate reaches the employer: the workers have this patient's consents cached now.
    const first = await post(baseB, '/sick-leave-certificates', KEY.gp, certificate(0));
    expect(first.status).toBe(202);
    await eventually(() => Promise.resolve(employer.unique.size === 1 ? true : undefined), 30000, 'the first copy');

    // The workers stop taking jobs; a second certificate is accepted with its employer copy and waits.
    await Promise.all([w1.gateway.worker?.pause(), w2.gateway.worker?.pause()]);
    const second = await post(baseB, '/sick-leave-certificates', KEY.gp, certificate(6));
    expect(second.status).toBe(202);
    const waiting = employerCopy(second.body);
    expect(waiting).toBeDefined();

    const withdrawn = await fetch(`${baseA}/fhir/Consent/${employerConsent.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEY.admin}` },
    });
    expect(withdrawn.status).toBe(200);
    await Promise.all([w1.gateway.worker?.resume(), w2.gateway.worker?.resume()]);
    const blocked = await eventually(
      async () => {
        const t = await tracking(a, waiting?.id ?? '', KEY.gp);
        return t.deliveries[0]?.status === 'blocked' ? t : undefined;
      },
      30000,
      'the waiting copy blocked',
    );
    expect(blocked.deliveries[0]?.lastError).toMatch(/consent/);
    expect(employer.unique.size).toBe(1);

    // And B's intake no longer makes an employer copy at all.
    const third = await post(baseB, '/sick-leave-certificates', KEY.gp, certificate(12));
    expect(third.status).toBe(202);
    expect(employerCopy(third.body)).toBeUndefined();
  });
});
