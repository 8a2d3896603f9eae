import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { decodeHl7Bytes } from '../../src/hl7v2/charset';
import { encodeFrame, MllpFramer } from '../../src/hl7v2/mllp-framer';
import { parseHl7Batch, type Hl7Message } from '../../src/hl7v2/parse';
import { getDefaultValidator } from '../../src/validation';
import { KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';
import { listShared, sharedPath } from './shared-dir';

/**
 * A bounded, seeded fuzz run of the HL7 v2 intake: POST /hl7v2, POST /discharge-letters, POST /$convert and
 * the MLLP listener, with inputs mutated (fast-check) from the test fixtures, the openapi examples,
 * ../shared/corpus/hl7v2 and the bug-report inputs. It fails on any 5xx, a crash, a hang (no answer within
 * 10 s), an MLLP answer that is not an ACK, and on any accepted message whose stored Bundle is not valid
 * against profiles/ or holds U+FFFD or a control character. The seed is printed; FUZZ_SEED replays a run,
 * FUZZ_RUNS changes its size.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const ROOT = join(__dirname, '..', '..');
const UTF8 = { encoding: 'utf8', label: 'UNICODE UTF-8' };

/** Every seed message as a byte string (one char per byte), so mutations work on bytes. */
function seeds(): Array<{ name: string; bytes: string }> {
  const out: Array<{ name: string; bytes: string }> = [];
  const fixtures = join(ROOT, 'test/fixtures/hl7v2');
  for (const f of readdirSync(fixtures)) {
    out.push({ name: `fixture ${f}`, bytes: readFileSync(join(fixtures, f)).toString('latin1') });
  }
  const openapi = parseYaml(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as unknown;
  const walk = (node: unknown, path: string): void => {
    if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k === 'x-application/hl7-v2+er7') {
          for (const [name, ex] of Object.entries(
            (v as { examples?: Record<string, { value?: unknown }> }).examples ?? {},
          )) {
            if (typeof ex.value === 'string') {
              out.push({ name: `openapi ${name}`, bytes: Buffer.from(ex.value, 'utf8').toString('latin1') });
            }
          }
        } else {
          walk(v, `${path}/${k}`);
        }
      }
    }
  };
  walk(openapi, '');
  for (const f of listShared('corpus/hl7v2').filter((n) => /\.(hl7|txt)$/.test(n))) {
    out.push({ name: `corpus ${f}`, bytes: readFileSync(sharedPath('corpus/hl7v2', f)).toString('latin1') });
  }
  for (const f of listShared('corpus/bug-reports').filter((n) => n.endsWith('.hl7'))) {
    out.push({ name: `bug report ${f}`, bytes: readFileSync(sharedPath('corpus/bug-reports', f)).toString('latin1') });
  }
  return out;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
/** Values a field is replaced with: HL7 nulls and escapes, impossible dates, delimiters, controls, long and random text. */
const fieldValue = fc.oneof(
  fc.constantFrom(
    '',
    '""',
    '\\X00\\',
    '\\XFF\\',
    '\\XC3\\',
    '\\XF8\\',
    '\\Zlocal\\',
    '\\C2842\\',
    '\\.br\\',
    '\\F\\\\S\\',
    '\\',
    '20260230',
    '2026',
    '202610280930+0100',
    '20261028240000',
    '99999999999999',
    '20261028093000.12345',
    '^^^',
    '~~',
    '&&',
    utf8('Åse Prøvesen'),
    'Åse Prøvesen',
    '\u0000',
    utf8('\uFFFD'),
    '\u001b$B',
    '^AP^PDF^Base64^JVBERi0xLjQK',
    '^IM^JPEG^Hex^FFD8FF',
    '^AP^XYZ^Base64^@@@',
    'Psykiatrisk Center Demo^265161000016004^L',
    'Afsnit P3^^^X&265161000016004&ISO',
    '0101901234^^^CPR',
    'x'.repeat(5000),
  ),
  fc.string({ maxLength: 40 }).map(utf8),
  fc.string({ unit: 'binary', maxLength: 20 }).map(utf8),
  fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('latin1')),
);

type Mutation =
  | { kind: 'field'; segment: number; field: number; value: string }
  | { kind: 'msh'; field: 9 | 10 | 11 | 18 | 4 | 3 | 7; value: string }
  | { kind: 'insert'; at: number; bytes: string }
  | { kind: 'drop-segment'; segment: number }
  | { kind: 'repeat-segment'; segment: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'batch'; countDelta: number }
  | { kind: 'line-ends'; with: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      segment: fc.nat(12),
      field: fc.nat(46),
      value: fieldValue,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('msh' as const),
      field: fc.constantFrom(9 as const, 10 as const, 11 as const, 18 as const, 4 as const, 3 as const, 7 as const),
      value: fc.oneof(
        fc.constantFrom(
          '8859/1',
          '8859/3',
          'UNICODE UTF-8',
          'UNICODE UTF-16',
          'ISO IR87',
          'GB 18030-2000',
          'ASCII',
          'T',
          'D',
          'P',
        ),
        fc.constantFrom(
          'MDM^T02^MDM_T02',
          'MDM^T10',
          'ADT^A01',
          'ADT^A03',
          'ORU^R01',
          'ACK',
          'Aarhus Universitetshospital',
        ),
        fieldValue,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(2000),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => Buffer.from(b).toString('latin1')),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop-segment' as const), segment: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat-segment' as const), segment: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(2000) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('batch' as const), countDelta: fc.integer({ min: -1, max: 1 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('line-ends' as const), with: fc.constantFrom('\n', '\r\n', '\r\r') }),
  },
);

function apply(bytes: string, m: Mutation): string {
  const lines = bytes.split('\r');
  switch (m.kind) {
    case 'field': {
      const i = m.segment % Math.max(1, lines.length);
      const parts = (lines[i] ?? '').split('|');
      while (parts.length <= m.field) {
        parts.push('');
      }
      parts[Math.max(1, m.field)] = m.value;
      lines[i] = parts.join('|');
      return lines.join('\r');
    }
    case 'msh':
      return lines
        .map((l) => {
          if (!l.startsWith('MSH')) {
            return l;
          }
          const parts = l.split('|');
          while (parts.length < m.field) {
            parts.push('');
          }
          parts[m.field - 1] = m.value;
          return parts.join('|');
        })
        .join('\r');
    case 'insert':
      return bytes.slice(0, m.at % (bytes.length + 1)) + m.bytes + bytes.slice(m.at % (bytes.length + 1));
    case 'drop-segment':
      lines.splice(m.segment % Math.max(1, lines.length), 1);
      return lines.join('\r');
    case 'repeat-segment': {
      const i = m.segment % Math.max(1, lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\r');
    }
    case 'truncate':
      return bytes.slice(0, Math.max(8, m.at % (bytes.length + 1)));
    case 'batch': {
      const count = lines.filter((l) => l.startsWith('MSH')).length + m.countDelta;
      return `BHS|^~\\&|PSYK-EPJ|265161000016004||||||||FZB\r${bytes.replace(/\r*$/, '\r')}BTS|${count}\r`;
    }
    case 'line-ends':
      return bytes.replace(/\r\n|\r|\n/g, m.with);
  }
}

class Mllp {
  private socket: Socket | undefined;
  private framer = new MllpFramer(50_000_000);
  private answers: Buffer[] = [];
  constructor(private readonly port: number) {}
  private async open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) {
      return this.socket;
    }
    const socket = connect(this.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    this.framer = new MllpFramer(50_000_000);
    this.answers = [];
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.framer.push(chunk)) {
        if (e.kind === 'frame') {
          this.answers.push(e.frame);
        }
      }
    });
    socket.on('error', () => socket.destroy());
    this.socket = socket;
    return socket;
  }
  async send(bytes: Buffer): Promise<Buffer> {
    const socket = await this.open();
    socket.write(encodeFrame(bytes));
    const deadline = Date.now() + 10000;
    while (this.answers.length === 0) {
      if (Date.now() > deadline) {
        socket.destroy();
        throw new Error('hang: no MLLP answer within 10 s');
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.answers.shift() ?? Buffer.alloc(0);
  }
  close(): void {
    this.socket?.destroy();
  }
}

describe('HL7 v2 fuzz (HTTP routes and MLLP)', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;
  let mllp: Mllp;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp({
      env: {
        MLLP_PORT: '0',
        MLLP_SENDERS: 'PSYK-EPJ=demo-hospital,PSYK-ADT=demo-hospital,AUH-EPJ=demo-hospital',
        // The run checks every stored Bundle itself (below); the gateway's own check would hide a mapping fault.
        VALIDATE_OUTPUT: 'never',
      },
    }));
    mllp = new Mllp(t.gateway.mllp?.port ?? 0);
  });

  afterAll(async () => {
    mllp.close();
    await close();
  });

  it(`answers every mutated input without a 5xx, crash or hang, and stores only valid Bundles (seed ${SEED})`, async () => {
    console.log(`fuzz-hl7v2: seed ${SEED}, ${RUNS} runs (replay with FUZZ_SEED=${SEED})`);
    const pool = seeds();
    const tally = new Map<string, number>();
    const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
    let n = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(pool.length - 1),
        fc.array(mutation, { maxLength: 4 }),
        fc.constantFrom('/hl7v2', '/discharge-letters', '/$convert', 'mllp'),
        async (seedIndex, mutations, route) => {
          n += 1;
          const seed = pool[seedIndex] ?? { name: '', bytes: '' };
          // A control id of its own per run, so runs do not replay each other's idempotent answers.
          let bytes = seed.bytes.replace(/^(MSH(.)(?:[^\r\n]*?\2){8})[^\r\n|]*/gm, `$1FZ${SEED}-${n}`);
          for (const m of mutations) {
            bytes = apply(bytes, m);
          }
          let body = Buffer.from(bytes, 'latin1');
          if (route === 'mllp') {
            // 0x1C 0x0D ends an MLLP frame: never part of a message.
            body = Buffer.from(body.filter((b) => b !== 0x1c));
            const answer = await mllp.send(body);
            // Written in the set the message declared (MSH-18 echoed; UTF-16/32 as it came), else UTF-8: it decodes.
            let text = '';
            let undecodable = '';
            try {
              text = decodeHl7Bytes(answer, () => UTF8).text;
            } catch (e) {
              undecodable = `${(e as Error).message}: ${JSON.stringify(answer.toString('latin1'))} answering ${JSON.stringify(bytes.slice(0, 300))}`;
            }
            expect(undecodable).toBe('');
            // An ACK (or a batch of them) per frame, in the sender's own delimiters: MSH first, then MSA-1 AA, AE or
            // AR. Read from the raw segments: an ACK echoes MSH-3/4/10 as sent, escapes the gateway refused included.
            expect(text).toMatch(/^(FHS|BHS|MSH)[^A-Za-z0-9\s]/);
            const codes = [...text.matchAll(/(?:^|\r)MSA(.)([^\r]*?)\1/g)].map((m) => m[2] ?? '');
            expect(codes.length).toBeGreaterThan(0);
            for (const code of codes) {
              expect(['AA', 'AE', 'AR']).toContain(code);
              count(`mllp ${code}`);
            }
            return;
          }
          const res = await t.http
            .post(route)
            .set('Authorization', `Bearer ${KEY.hospital}`)
            .set('Content-Type', 'x-application/hl7-v2+er7')
            .timeout(10000)
            .send(body);
          count(`${route} ${res.status}`);
          expect(res.status).toBeLessThan(500);
          expect(['OperationOutcome', 'Parameters', 'Bundle', undefined]).toContain(res.body.resourceType);
          if (res.status >= 400) {
            expect(res.body.resourceType).toBe('OperationOutcome');
          }
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const elapsed = Date.now() - started;

    // The process is alive and both doors still work.
    expect((await t.http.get('/health/live')).status).toBeLessThan(500);
    const ok = readFileSync(join(ROOT, 'test/fixtures/hl7v2/adt-a01.hl7'))
      .toString('latin1')
      .replace('ADT-2026-0001', `FZ-END-${SEED}`);
    const ack = parseHl7Batch((await mllp.send(Buffer.from(ok, 'latin1'))).toString('latin1'))
      .messages[0] as Hl7Message;
    expect(ack.get(ack.segment('MSA'), 1)).toBe('AA');

    // Every Bundle stored for a recipient is valid against profiles/ and carries no lost or control character.
    const rows = await t.db.query<{ bundle: Bundle }>('SELECT bundle FROM deliveries');
    const validator = getDefaultValidator();
    for (const { bundle } of rows) {
      const errors = validator.validate(bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      expect(errors).toEqual([]);

      expect(JSON.stringify(bundle)).not.toMatch(/\uFFFD|\\u00[01][0-9a-f]|[\u007f-\u009f]/i);
    }

    console.log(
      `fuzz-hl7v2: ${n} inputs in ${elapsed} ms, ${rows.length} stored Bundles valid; answers: ${JSON.stringify(Object.fromEntries([...tally].sort()))}; GP got ${gp.unique.size}`,
    );
  }, 180000);
});
