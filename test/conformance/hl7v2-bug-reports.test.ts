import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Bundle, DocumentReference, Patient } from 'fhir/r4';
import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { encodeFrame, MllpFramer } from '../../src/hl7v2/mllp-framer';
import { parseHl7Batch, parseHl7Message, type Hl7Message } from '../../src/hl7v2/parse';
import { KEY, eventually, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';
import { sharedPath } from './shared-dir';

/**
 * The HL7 v2 inputs of ../shared/corpus/bug-reports (rebuilt from public bug reports against other HL7
 * software), each with the outcome its README names, over HTTP and over MLLP. Each run gives the control ids
 * a suffix of its own, so the same files can go through both paths.
 */
const report = (name: string, suffix: string): Buffer =>
  Buffer.from(
    readFileSync(sharedPath('corpus/bug-reports', name))
      .toString('latin1')
      .replace(/\|(BH2-\d+[AB]?)\|/g, `|$1-${suffix}|`),
    'latin1',
  );

async function mllpSend(port: number, bytes: Buffer): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const framer = new MllpFramer(10_000_000);
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('no ACK within 60 s'));
      }, 60000);
      socket.on('data', (chunk: Buffer) => {
        for (const e of framer.push(chunk)) {
          if (e.kind === 'frame') {
            clearTimeout(timer);
            resolve(e.frame.toString('utf8'));
          }
        }
      });
      socket.write(encodeFrame(bytes));
    });
  } finally {
    socket.destroy();
  }
}

describe('HL7 v2 bug-report inputs, each with the outcome its README names', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;
  let port: number;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp({
      env: { MLLP_PORT: '0', MLLP_SENDERS: 'PSYK-EPJ|265161000016004=demo-hospital' },
    }));
    port = t.gateway.mllp?.port ?? 0;
  });

  afterAll(async () => {
    await close();
  });

  const http = (body: Buffer) =>
    t.http
      .post('/hl7v2')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'x-application/hl7-v2+er7')
      .send(body);
  const messageId = async (controlId: string) =>
    (
      await t.db.query<{ id: string }>('SELECT id FROM messages WHERE idempotency_key = $1', [
        `hl7-PSYK-EPJ-${controlId}`,
      ])
    )[0]?.id;
  const delivered = async (id: string): Promise<Bundle> => {
    const tracking = await eventually(async () => {
      const r = await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? (r.body as { messageHeaderId: string }) : undefined;
    });
    const bundle = gp.received.find((m) => m.messageHeaderId === tracking.messageHeaderId)?.bundle;
    if (!bundle) {
      throw new Error('delivered but not received');
    }
    return bundle;
  };
  /** Send over one path; the ids of what was stored, or the refusal. */
  const send = async (
    path: 'http' | 'mllp',
    file: string,
  ): Promise<{ ids: string[]; status?: number; refusal?: unknown; acks: Hl7Message[] }> => {
    const suffix = `${path}-${Math.random().toString(36).slice(2, 8)}`;
    const bytes = report(file, suffix);
    const controlIds = [...bytes.toString('latin1').matchAll(/\|(BH2-\d+[AB]?-[^|]+)\|/g)].map((m) => m[1] ?? '');
    if (path === 'http') {
      const res = await http(bytes);
      const ids = await Promise.all(controlIds.map(messageId));
      return { ids: ids.filter((x): x is string => Boolean(x)), status: res.status, refusal: res.body, acks: [] };
    }
    const answer = await mllpSend(port, bytes);
    const acks = parseHl7Batch(answer).messages as Hl7Message[];
    const ids = await Promise.all(controlIds.map(messageId));
    return { ids: ids.filter((x): x is string => Boolean(x)), acks };
  };
  const text = (bundle: Bundle) => JSON.stringify(bundle);

  describe.each(['http', 'mllp'] as const)('over %s', (path) => {
    it('01: \\Xhh\\ escapes are decoded in the declared 8859/1: "Opfølgning hos egen læge; kære Åse."', async () => {
      const { ids } = await send(path, '01-hex-escape-8859-1.hl7');
      expect(ids).toHaveLength(1);
      const bundle = await delivered(ids[0] ?? '');
      expect(text(bundle)).toContain('Opfølgning hos egen læge; kære Åse.');
      expect(text(bundle)).not.toMatch(/\uFFFD|\\u0000/);
    });

    it('03: raw Latin-1 declared in MSH-18 arrives intact: "Åse Prøvesen"', async () => {
      const { ids } = await send(path, '03-http-latin1-msh18.hl7');
      const bundle = await delivered(ids[0] ?? '');
      const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
      expect(patient.name?.[0]).toMatchObject({ family: 'Prøvesen', given: ['Åse'] });
    });

    it('04: the HL7 null "" is an absent element, never the text ""', async () => {
      const { ids } = await send(path, '04-hl7-null-quotes.hl7');
      const bundle = await delivered(ids[0] ?? '');
      const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
      expect(patient.name?.[0]?.given).toBeUndefined();
      expect(text(bundle)).not.toContain('\\"\\"');
    });

    it('11: both letters of the batch are taken and acknowledged, neither dropped', async () => {
      const { ids, status, refusal, acks } = await send(path, '11-batch-two-letters.hl7');
      expect(ids).toHaveLength(2);
      if (path === 'http') {
        expect(status).toBe(200);
        expect((refusal as { entry: unknown[] }).entry).toHaveLength(2);
      } else {
        expect(acks.map((a) => a.get(a.segment('MSA'), 1))).toEqual(['AA', 'AA']);
      }
      const bundles = await Promise.all(ids.map(delivered));
      expect(text(bundles[0] as Bundle)).toContain('Brev A');
      expect(text(bundles[1] as Bundle)).toContain('Brev B');
    });

    it('12: an ED typed ^AP^PDF^Base64^ arrives as application/pdf', async () => {
      const { ids } = await send(path, '12-ed-ap-pdf.hl7');
      const bundle = await delivered(ids[0] ?? '');
      const pdf = bundle.entry?.find((e) => e.resource?.resourceType === 'DocumentReference')
        ?.resource as DocumentReference;
      expect(pdf.content[0]?.attachment.contentType).toBe('application/pdf');
    });

    it('13: a test message (MSH-11 T) is not delivered, and the answer echoes T', async () => {
      const { ids, status, refusal, acks } = await send(path, '13-processing-id-T.hl7');
      expect(ids).toHaveLength(0);
      if (path === 'http') {
        expect(status).toBe(422);
        expect((refusal as { issue: Array<{ expression: string[] }> }).issue[0]?.expression).toEqual(['MSH-11']);
      } else {
        const [ack] = acks;
        expect(ack?.get(ack.segment('MSA'), 1)).toBe('AR');
        expect(ack?.get(ack.segment('MSH'), 11)).toBe('T');
      }
    });
  });

  it('03: bytes invalid in the declared set are refused naming MSH-18 (HTTP 400, MLLP AE)', async () => {
    const bytes = report('03-http-latin1-msh18.hl7', 'bad');
    const broken = Buffer.from(bytes.toString('latin1').replace('Opf', 'Opf\u0081'), 'latin1');
    const res = await http(broken);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/MSH-18/);
    const ack = parseHl7Message(await mllpSend(port, broken));
    expect(ack.get(ack.segment('MSA'), 1)).toBe('AE');
    expect(ack.get(ack.segment('MSA'), 2)).toBe('BH2-03-bad');
  });
});
