import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { OperationOutcome } from 'fhir/r4';
import { parse } from 'yaml';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { encodeFrame, MllpFramer } from '../../src/hl7v2/mllp-framer';
import { createLogger } from '../../src/observability/logger';
import { faultyDb, type FaultyDb } from '../faults/faulty-db';
import { PATIENT_CPR, directoryBundle } from '../helpers/directory-fixture';
import { nativeLetter } from '../helpers/fixtures';
import { createTestDb } from '../helpers/test-db';
import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';
import { poisonedDb, type PoisonedDb } from './poisoned-db';

/**
 * No CPR number and no clinical text in the log, on any path (issue 12, item 6). A gateway logs at `trace`
 * into memory while the test drives every route in openapi.yaml with every role and none, with a CPR number
 * in the path and the query and a body full of CPR numbers and clinical text; a letter with a NUL byte; a
 * database error that carries the parameters (PGlite's `params`), one whose message quotes the Bundle, and a
 * lost database; and an MLLP message that fails on the database. Then every line is scanned.
 */
const CLINICAL = 'Moderat depression, selvmordstanker.';
/** Clinical text and names from the fixtures (native letter, HL7 v2 message) and this test's bodies. */
const SECRETS = [
  CLINICAL,
  'selvmordstanker',
  'Depressiv enkeltepisode',
  'Generaliseret angst',
  'Escitalopram',
  'escitalopram',
  'Zopiclon',
  'Udskrivningsbrev til egen',
  'Jensen',
  'Mette',
];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const CPR_SHAPED = /(?<!\d)\d{6}-?\d{4}(?!\d)/;

interface LogLine {
  msg?: string;
  status?: number;
  path?: string;
  err?: { code?: string };
  [key: string]: unknown;
}

describe('logs carry no CPR number and no clinical text', () => {
  const lines: string[] = [];
  let t: TestGateway;
  let db: FaultyDb;
  let poisoned: PoisonedDb;
  let gp: MessageReceiver;

  beforeAll(async () => {
    // A loopback GP system, so deliveries (and their logs) happen and nothing leaves this machine.
    gp = await startMessageReceiver();
    poisoned = poisonedDb(await createTestDb());
    db = faultyDb(poisoned);
    t = await startTestGateway({
      db,
      env: {
        LOG_LEVEL: 'trace',
        MLLP_PORT: '0',
        MLLP_SENDERS: 'PSYK-EPJ|265161000016004=demo-hospital',
      },
      overrides: {
        logger: createLogger('trace', {
          write(line: string) {
            lines.push(line);
          },
        }),
      },
    });
    const loaded = await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(gp.url));
    expect(loaded.status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await poisoned.close();
    await gp.close();
  });

  /** The lines logged since `from`, parsed, and those among them that carry a CPR number or clinical text. */
  function since(from: number): { logged: LogLine[]; leaks: string[] } {
    const text = lines.slice(from);
    return {
      logged: text.map((l) => JSON.parse(l) as LogLine),
      leaks: text.filter((l) => CPR_SHAPED.test(l.replace(UUID, '')) || SECRETS.some((s) => l.includes(s))),
    };
  }
  const post = (path: string, body: unknown) =>
    t.http
      .post(path)
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .send(body as object);

  it('answers every documented route, for every role and none, with 4xx logged under a masked path', async () => {
    const from = lines.length;
    const statuses = new Set<number>();
    // Every documented route, every role and none, with a CPR number in the path and the query and a body of
    // CPR numbers and clinical text: 4xx answers, each logged by the error handler and the access log.
    const api = parse(readFileSync(join(__dirname, '../../openapi.yaml'), 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const body = {
      resourceType: 'Bundle',
      patient: { cpr: PATIENT_CPR, name: 'Mette Jensen' },
      note: CLINICAL,
      answers: { 'current-health': CLINICAL },
    };
    const keys = [...Object.values(KEY), 'wrong-key-0101901234'];
    for (const [template, operations] of Object.entries(api.paths)) {
      if (template.startsWith('/admin/queues') || template === '/docs') {
        continue;
      }
      const path = template.replace(/\{[^}]+\}/g, PATIENT_CPR);
      for (const method of Object.keys(operations).filter((m) => ['get', 'post', 'put', 'delete'].includes(m))) {
        for (const key of keys) {
          const call = t.http[method as 'get' | 'post' | 'put' | 'delete'](
            `${path}?identifier=urn:oid:1.2.208.176.1.2|${PATIENT_CPR}`,
          ).set('Authorization', `Bearer ${key}`);
          const res = method === 'post' || method === 'put' ? await call.send(body) : await call;
          statuses.add(res.status);
        }
      }
    }
    for (const path of [
      `/nowhere/${PATIENT_CPR}`,
      '/patients/010190-1234/disclosures',
      `/patients/${PATIENT_CPR}%0A`,
    ]) {
      statuses.add((await t.http.get(path).set('Authorization', `Bearer ${KEY.hospital}`)).status);
    }
    const { logged, leaks } = since(from);
    expect([...statuses].filter((s) => s >= 400 && s < 500).length).toBeGreaterThanOrEqual(5);
    expect(logged.filter((l) => l.msg === 'request rejected').length).toBeGreaterThan(100);
    expect(logged.some((l) => l.msg === 'request rejected' && l.path === '/patients/**********/disclosures')).toBe(
      true,
    );
    expect(leaks).toEqual([]);
  });

  it('refuses NUL and other control characters in JSON bodies with 400 naming the field, before the database', async () => {
    const from = lines.length;
    const cases: Array<[string, unknown, string]> = [];
    const nul = nativeLetter();
    nul.course = `${CLINICAL}\u0000`;
    cases.push(['NUL in course', nul, 'course']);
    const escape = nativeLetter();
    (escape.diagnoses as Array<{ display: string }>)[1]!.display = 'Generaliseret\u001b[31m angst';
    cases.push(['ESC in a diagnosis', escape, 'diagnoses[1].display']);
    const key = { ...nativeLetter(), ['note\u0007']: 'x' };
    cases.push(['BEL in a property name', key, 'body']);
    const surrogate = nativeLetter();
    surrogate.course = 'Moderat \ud800 depression';
    cases.push(['a lone surrogate', surrogate, 'course']);
    const fhir = {
      resourceType: 'Bundle',
      type: 'document',
      entry: [{ resource: { resourceType: 'Composition', title: 'x\u0000' } }],
    };
    cases.push(['NUL in a FHIR Bundle', fhir, 'Bundle.entry[0].resource.title']);
    for (const [what, body, expression] of cases) {
      const res = await post('/discharge-letters', body);
      const issue = (res.body as OperationOutcome).issue?.[0];
      expect({
        what,
        status: res.status,
        expression: issue?.expression,
        code: issue?.details?.coding?.[0]?.code,
      }).toEqual({ what, status: 400, expression: [expression], code: 'control-character' });
    }
    // HL7 v2 text, a query parameter and the path: the same rule, naming the HL7 field or the parameter.
    const hl7 = readFileSync(join(__dirname, '../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');
    const hl7Nul = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .type('x-application/hl7-v2+er7')
      .send(hl7.replace('Udskrivningsbrev til egen', 'Udskrivningsbrev\u0000 til egen'));
    expect([hl7Nul.status, (hl7Nul.body as OperationOutcome).issue?.[0]?.expression]).toEqual([400, ['OBX-5']]);
    const query = await t.http.get('/messages?status=dead%00').set('Authorization', `Bearer ${KEY.admin}`);
    expect([query.status, (query.body as OperationOutcome).issue?.[0]?.expression]).toEqual([400, ['status']]);
    const path = await t.http.get('/messages/abc%01').set('Authorization', `Bearer ${KEY.hospital}`);
    expect([path.status, (path.body as OperationOutcome).issue?.[0]?.details?.coding?.[0]?.code]).toEqual([
      400,
      'control-character',
    ]);
    // Tab, line feed and carriage return are text: a letter with them is taken.
    const fine = nativeLetter();
    fine.course = 'Linje 1\r\nLinje 2\tindrykket';
    expect((await post('/discharge-letters', fine)).status).toBe(202);
    expect(since(from).leaks).toEqual([]);
  });

  it('logs a database error that carries the values (its parameters, or quoted in its message) without them', async () => {
    const from = lines.length;
    for (const poison of ['missing-table', 'bad-cast'] as const) {
      poisoned.poison = poison;
      try {
        expect((await post('/discharge-letters', nativeLetter())).status).toBe(500);
      } finally {
        poisoned.poison = 'none';
      }
    }
    const { logged, leaks } = since(from);
    const failed = logged.filter((l) => l.msg === 'request failed');
    expect(failed.map((l) => l.err?.code).sort()).toEqual(['22P02', '42P01']);
    expect(leaks).toEqual([]);
  });

  it('logs a lost database without CPR numbers in paths', async () => {
    const from = lines.length;
    db.down = true;
    try {
      expect((await post('/discharge-letters', nativeLetter())).status).toBe(503);
      expect(
        (await t.http.get(`/patients/${PATIENT_CPR}/disclosures`).set('Authorization', `Bearer ${KEY.admin}`)).status,
      ).toBe(503);
    } finally {
      db.down = false;
    }
    const { logged, leaks } = since(from);
    expect(logged.filter((l) => l.msg === 'request failed' && l.status === 503)).toHaveLength(2);
    expect(leaks).toEqual([]);
  });

  it('logs an MLLP message that fails on the database without its content', async () => {
    const from = lines.length;
    poisoned.poison = 'missing-table';
    let ack: string;
    try {
      const hl7 = readFileSync(join(__dirname, '../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');
      ack = await new Promise<string>((resolve, reject) => {
        const socket = connect(t.gateway.mllp!.port, '127.0.0.1');
        const framer = new MllpFramer(1_000_000);
        socket.on('error', reject);
        socket.on('data', (chunk: Buffer) => {
          for (const e of framer.push(chunk)) {
            if (e.kind === 'frame') {
              socket.destroy();
              resolve(e.frame.toString('utf8'));
            }
          }
        });
        socket.write(encodeFrame(hl7));
      });
    } finally {
      poisoned.poison = 'none';
    }
    expect(ack).toMatch(/MSA\|AR/);
    // A NUL byte in an MLLP message: AE naming the field, nothing stored.
    const nulAck = await new Promise<string>((resolve, reject) => {
      const socket = connect(t.gateway.mllp!.port, '127.0.0.1');
      const framer = new MllpFramer(1_000_000);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        for (const e of framer.push(chunk)) {
          if (e.kind === 'frame') {
            socket.destroy();
            resolve(e.frame.toString('utf8'));
          }
        }
      });
      const text = readFileSync(join(__dirname, '../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');
      socket.write(encodeFrame(text.replace('MSG-2026-000777', 'MSG-NUL-1').replace('Forløb:', 'Forløb:\u0000')));
    });
    expect(nulAck).toMatch(/MSA\|AE/);
    expect(nulAck).toMatch(/\rERR\|\|OBX\^1\^5\|102\^/);
    const { logged, leaks } = since(from);
    expect(logged.some((l) => l.msg === 'MLLP message failed')).toBe(true);
    expect(leaks).toEqual([]);
  });

  it('has logged, over the whole run (start-up, deliveries, workers included), no CPR number and no clinical text', async () => {
    await gp.waitFor(1);
    const { logged, leaks } = since(0);
    expect(logged.some((l) => l.msg === 'delivered')).toBe(true);
    expect(leaks).toEqual([]);
  });
});
