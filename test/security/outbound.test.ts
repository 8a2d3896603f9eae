import { createServer, type Server, type Socket } from 'node:net';
import type { OperationOutcome, Subscription } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { BACKPORT } from '../../src/mappers/subscription/backport';
import type { HostResolver } from '../../src/outbound/outbound-dispatcher';
import { TOPICS } from '../../src/subscriptions/topics';
import { directoryBundle } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Server-side request forgery through the gateway (issue 12, item 6 of the faults; item 5 of what must hold).
 * A GP chooses its rest-hook URL and an admin loads endpoint addresses, and the gateway then sends requests
 * there on their behalf. Refused: loopback, private, CGNAT, unique-local, link-local (cloud metadata),
 * unspecified and multicast addresses in every spelling the URL parser accepts, and the gateway's own origin;
 * at registration (400 naming the element) and on the connection (a name that resolves to loopback). And the
 * texts a subscriber or sender reads do not tell an open port from a closed one.
 *
 * Only loopback is ever connected to: the gateways that are given private and link-local addresses run no
 * workers, so even code that accepted them would send nothing off this machine.
 */
const TOPIC = TOPICS[0]!.url;
const ADMIN_KEY = KEY.admin;
const UNREACHABLE = /not reached \(no connection, no answer in time, or address not allowed\)/;

function subscription(endpoint: string, header: string[] = ['Authorization: Bearer hook-secret']): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Opdateringer om mine patienter',
    criteria: TOPIC,
    _criteria: {
      extension: [
        {
          url: BACKPORT.filterCriteria,
          valueString: 'Patient?general-practitioner=urn:oid:1.2.208.176.1.1|481101000016000',
        },
      ],
    },
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: BACKPORT.payloadContent, valueCode: 'id-only' }] },
      header,
    },
  };
}

const subscribe = (t: TestGateway, body: Subscription) =>
  t.http.post('/fhir/Subscription').set('Authorization', `Bearer ${KEY.gp}`).type('application/fhir+json').send(body);

function expectRefused(
  res: { status: number; body: OperationOutcome },
  expression: string | RegExp,
  what: string,
): void {
  const issue = res.body.issue?.find((i) =>
    (i.expression ?? []).some((e) => (typeof expression === 'string' ? e === expression : expression.test(e))),
  );
  expect({ what, status: res.status, refused: issue?.details?.coding?.[0]?.code }).toEqual({
    what,
    status: 400,
    refused: 'endpoint-refused',
  });
}

/** A TCP server that accepts connections and then `behaviour`s them: the kinds of open port there are. */
async function tcpServer(behaviour: 'silent' | 'reset'): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    if (behaviour === 'reset') {
      socket.resetAndDestroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    },
  };
}

const portOf = (receiver: MessageReceiver): string => new URL(receiver.url).port;

/** A loopback port nothing listens on (listened on once, then closed). */
async function closedPort(): Promise<number> {
  const s = await tcpServer('reset');
  await s.close();
  return s.port;
}

describe('outbound requests: refused at registration', () => {
  let hook: MessageReceiver;
  let strict: TestGateway;
  let lenient: TestGateway;

  beforeAll(async () => {
    hook = await startMessageReceiver();
    // No workers: nothing is ever sent from these two, whatever they accept.
    strict = await startTestGateway({ env: { OUTBOUND_ALLOW_PRIVATE: 'false', RUN_WORKERS: 'false' } });
    lenient = await startTestGateway({ env: { OUTBOUND_ALLOW_PRIVATE: 'true', RUN_WORKERS: 'false' } });
    for (const t of [strict, lenient]) {
      const loaded = await t.http
        .post('/fhir')
        .set('Authorization', `Bearer ${ADMIN_KEY}`)
        .send(directoryBundle('https://gp.example.dk/fhir'));
      expect(loaded.status).toBe(200);
    }
  });
  afterAll(async () => {
    await strict.close();
    await lenient.close();
    await hook.close();
  });

  it('refuses rest-hooks at loopback in every spelling, private, CGNAT, unique-local, link-local and special addresses', async () => {
    const port = portOf(hook);
    const endpoints = [
      `http://127.0.0.1:${port}/hook`,
      `http://127.8.9.10:${port}/hook`,
      `http://localhost:${port}/hook`,
      `http://LOCALHOST.:${port}/hook`,
      `http://anything.localhost:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${port}/hook`,
      `http://2130706433:${port}/hook`,
      `http://0x7f000001:${port}/hook`,
      `http://0177.0.0.1:${port}/hook`,
      `http://127.1:${port}/hook`,
      'http://10.0.0.5/hook',
      'http://172.16.4.2:8443/hook',
      'http://192.168.1.10/hook',
      'http://100.64.0.1/hook',
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://[fe80::1]/hook',
      'http://[fc00::5]/hook',
      'http://[::ffff:10.0.0.1]/hook',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://0.0.0.0:8080/hook',
      'http://[::]/hook',
      'http://224.0.0.1/hook',
      'http://255.255.255.255/hook',
      'http://[64:ff9b::7f00:1]/hook',
      'http://[2002:7f00:1::]/hook',
      'http://[::127.0.0.1]/hook',
    ];
    for (const endpoint of endpoints) {
      expectRefused(await subscribe(strict, subscription(endpoint)), 'Subscription.channel.endpoint', endpoint);
    }
    expect(hook.received).toHaveLength(0);
  });

  it("refuses the issue's instance: a rest-hook at the gateway's own /dead-letters/$replay with an admin key, even where private addresses are allowed", async () => {
    const header = [`Authorization: Bearer ${ADMIN_KEY}`];
    for (const t of [strict, lenient]) {
      for (const endpoint of [
        'http://gateway.test/dead-letters/$replay',
        'http://GATEWAY.test:80/dead-letters/$replay',
        'http://127.0.0.1:8080/dead-letters/$replay',
        'http://localhost:8080/dead-letters/$replay',
        'http://[::ffff:127.0.0.1]:8080/dead-letters/$replay',
      ]) {
        expectRefused(await subscribe(t, subscription(endpoint, header)), 'Subscription.channel.endpoint', endpoint);
      }
    }
    // A rest-hook update is a create with the id: the same rule holds for PUT.
    const created = await subscribe(lenient, subscription(`http://127.0.0.1:${portOf(hook)}/hook`));
    expect(created.status).toBe(201);
    const id = (created.body as Subscription).id!;
    const updated = await lenient.http
      .put(`/fhir/Subscription/${id}`)
      .set('Authorization', `Bearer ${KEY.gp}`)
      .type('application/fhir+json')
      .send({ ...subscription('http://gateway.test/dead-letters/$replay', header), id });
    expectRefused(updated, 'Subscription.channel.endpoint', 'PUT to own origin');
  });

  it('allows loopback and private rest-hooks only where configuration opens them, and link-local only by OUTBOUND_ALLOW', async () => {
    expect((await subscribe(lenient, subscription(`http://127.0.0.1:${portOf(hook)}/hook`))).status).toBe(201);
    expect((await subscribe(lenient, subscription('http://10.0.0.5/hook'))).status).toBe(201);
    expectRefused(
      await subscribe(lenient, subscription('http://169.254.169.254/latest/meta-data/')),
      'Subscription.channel.endpoint',
      'link-local with OUTBOUND_ALLOW_PRIVATE',
    );
    expect((await subscribe(strict, subscription('https://hooks.example.dk/sektorbro'))).status).toBe(201);
  });

  it('refuses rest-hook headers that pose as a proxy (Forwarded, X-Forwarded-For, X-Real-IP)', async () => {
    for (const header of ['X-Forwarded-For: 127.0.0.1', 'Forwarded: for=127.0.0.1', 'X-Real-IP: 10.0.0.1']) {
      const res = await subscribe(strict, subscription('https://hooks.example.dk/sektorbro', [header]));
      expect({ header, status: res.status }).toEqual({ header, status: 400 });
    }
  });

  it('refuses directory endpoints at loopback, private, link-local and the gateway itself (400 naming Endpoint.address)', async () => {
    for (const address of [
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/fhir',
      'http://[fd00::1]/fhir',
      'http://localhost:9999/fhir',
      'http://[::ffff:127.0.0.1]:9999/fhir',
      'http://gateway.test/fhir',
    ]) {
      const bundle = directoryBundle(address);
      const index = (bundle.entry ?? []).findIndex(
        (e) => e.resource?.resourceType === 'Endpoint' && (e.resource as { address?: string }).address === address,
      );
      const res = await strict.http.post('/fhir').set('Authorization', `Bearer ${ADMIN_KEY}`).send(bundle);
      expectRefused(res, `Bundle.entry[${index}].resource.address`, address);
    }
  });
});

describe('outbound requests: refused on the connection, after DNS resolution', () => {
  let gp: MessageReceiver;
  let hook: MessageReceiver;
  const gateways: TestGateway[] = [];
  /** A name the registration check cannot judge, which resolves to loopback when the request is made. */
  const REBINDING = 'gp.rebinding.test';
  const resolver: HostResolver = (hostname, _options, callback) => {
    if (hostname.endsWith('.rebinding.test')) {
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    } else {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    }
  };
  const start = async (allowPrivate: boolean) => {
    const t = await startTestGateway({
      env: {
        OUTBOUND_ALLOW_PRIVATE: String(allowPrivate),
        DELIVERY_ATTEMPTS: '1',
        SUBSCRIPTION_ATTEMPTS: '1',
        SUBSCRIPTION_BACKOFF_MS: '20',
      },
      overrides: { outboundResolver: resolver },
    });
    gateways.push(t);
    const loaded = await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .send(directoryBundle(`http://${REBINDING}:${portOf(gp)}/fhir`));
    expect(loaded.status).toBe(200);
    return t;
  };
  const post = async (t: TestGateway) => {
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(nativeLetter());
    expect(res.status).toBe(202);
    return (res.body as { id: string }).id;
  };
  const finalDelivery = (t: TestGateway, id: string) =>
    eventually(async () => {
      const res = await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.hospital}`);
      const d = (res.body as { deliveries: Array<{ status: string; lastError: string | null }> }).deliveries[0];
      return d && ['delivered', 'dead', 'failed'].includes(d.status) ? d : undefined;
    }, 60000);
  const subscriptionState = (t: TestGateway, id: string) =>
    eventually(async () => {
      const res = await t.http.get(`/fhir/Subscription/${id}`).set('Authorization', `Bearer ${KEY.gp}`);
      const s = res.body as Subscription;
      return s.status === 'active' || s.status === 'error' ? s : undefined;
    }, 60000);

  beforeAll(async () => {
    gp = await startMessageReceiver();
    hook = await startMessageReceiver();
  });
  afterAll(async () => {
    for (const t of gateways) {
      await t.close();
    }
    await gp.close();
    await hook.close();
  });

  it('does not deliver to a directory endpoint whose name resolves to loopback, unless private addresses are allowed', async () => {
    const strict = await start(false);
    const refused = await finalDelivery(strict, await post(strict));
    expect(refused.status).toBe('dead');
    expect(refused.lastError).toMatch(UNREACHABLE);
    expect(gp.received).toHaveLength(0);

    // The same name and resolver with loopback allowed: delivered, so the refusal above was the policy's.
    const lenient = await start(true);
    expect((await finalDelivery(lenient, await post(lenient))).status).toBe('delivered');
    expect(gp.received).toHaveLength(1);
  });

  it('does not notify a rest-hook whose name resolves to loopback, unless private addresses are allowed', async () => {
    const [strict, lenient] = gateways as [TestGateway, TestGateway];
    const endpoint = `http://hook.rebinding.test:${portOf(hook)}/hook`;
    const refused = await subscribe(strict, subscription(endpoint));
    expect(refused.status).toBe(201);
    const failed = await subscriptionState(strict, (refused.body as Subscription).id!);
    expect(failed.status).toBe('error');
    expect(failed.error).toMatch(UNREACHABLE);
    expect(hook.received).toHaveLength(0);

    const allowed = await subscribe(lenient, subscription(endpoint));
    expect((await subscriptionState(lenient, (allowed.body as Subscription).id!)).status).toBe('active');
    expect(hook.received.length).toBeGreaterThan(0);
  });
});

describe('outbound requests: error texts are no port oracle', () => {
  const servers: Array<{ close: () => Promise<void> }> = [];
  const gateways: TestGateway[] = [];
  const start = async (gpAddress: string) => {
    const t = await startTestGateway({
      env: {
        DELIVERY_ATTEMPTS: '1',
        DELIVERY_TIMEOUT_MS: '300',
        SUBSCRIPTION_ATTEMPTS: '1',
        SUBSCRIPTION_TIMEOUT_MS: '300',
        SUBSCRIPTION_BACKOFF_MS: '20',
      },
    });
    gateways.push(t);
    const loaded = await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .send(directoryBundle(gpAddress));
    expect(loaded.status).toBe(200);
    return t;
  };
  afterAll(async () => {
    for (const t of gateways) {
      await t.close();
    }
    for (const s of servers) {
      await s.close();
    }
  });

  let ports: Record<'closed' | 'silent' | 'reset', number>;
  beforeAll(async () => {
    const silent = await tcpServer('silent');
    const reset = await tcpServer('reset');
    servers.push(silent, reset);
    ports = { closed: await closedPort(), silent: silent.port, reset: reset.port };
  });
  const oneText = (texts: Record<string, unknown>) => new Set(Object.values(texts)).size;
  const noCause = (text: unknown) => {
    expect(text).toMatch(UNREACHABLE);
    expect(text).not.toMatch(/ECONNREFUSED|ECONNRESET|timeout|timed out|aborted|socket|\d{4,5}/i);
  };

  it('gives one Subscription.error for a closed port, a silent port and a resetting port', async () => {
    const t = await start('https://gp.example.dk/fhir');
    const ids = new Map<string, string>();
    for (const [kind, port] of Object.entries(ports)) {
      const created = await subscribe(t, subscription(`http://127.0.0.1:${port}/hook`));
      expect(created.status).toBe(201);
      ids.set(kind, (created.body as Subscription).id!);
    }
    const texts: Record<string, string | undefined> = {};
    for (const [kind, id] of ids) {
      const state = await eventually(
        async () => {
          const s = (await t.http.get(`/fhir/Subscription/${id}`).set('Authorization', `Bearer ${KEY.gp}`))
            .body as Subscription;
          return s.status === 'error' ? s : undefined;
        },
        30000,
        `${kind} subscription in error`,
      );
      texts[kind] = state.error;
    }
    expect({ texts, distinct: oneText(texts) }).toEqual({ texts, distinct: 1 });
    noCause(texts.closed);
  });

  it('gives one delivery lastError for a closed port, a silent port and a resetting port', async () => {
    const texts: Record<string, string | null> = {};
    for (const [kind, port] of Object.entries(ports)) {
      const t = await start(`http://127.0.0.1:${port}/fhir`);
      const letter = await t.http
        .post('/discharge-letters')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(nativeLetter());
      expect(letter.status).toBe(202);
      const delivery = await eventually(
        async () => {
          const res = await t.http
            .get(`/messages/${(letter.body as { id: string }).id}`)
            .set('Authorization', `Bearer ${KEY.hospital}`);
          const d = (res.body as { deliveries: Array<{ status: string; lastError: string | null }> }).deliveries[0];
          return d?.status === 'dead' ? d : undefined;
        },
        30000,
        `${kind} delivery dead`,
      );
      texts[kind] = delivery.lastError;
    }
    expect({ texts, distinct: oneText(texts) }).toEqual({ texts, distinct: 1 });
    noCause(texts.closed);
  }, 180000);
});
