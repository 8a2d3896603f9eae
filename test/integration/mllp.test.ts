import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { encodeFrame, MllpFramer } from '../../src/hl7v2/mllp-framer';
import { parseHl7Message, type Hl7Message } from '../../src/hl7v2/parse';
import { directoryBundle } from '../helpers/directory-fixture';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/** A real TCP client against the MLLP listener: framing, partial frames, many messages, garbage, senders. */
const hl7 = (controlId: string) =>
  readFileSync(join(__dirname, '../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8').replace(
    'MSG-2026-000777',
    controlId,
  );

class MllpClient {
  private readonly framer = new MllpFramer(10_000_000);
  private readonly acks: Hl7Message[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.framer.push(chunk)) {
        if (e.kind === 'frame') {
          this.acks.push(parseHl7Message(e.frame.toString('utf8')));
        }
      }
      this.waiters.forEach((w) => {
        w();
      });
    });
  }
  static async open(port: number): Promise<MllpClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    return new MllpClient(socket);
  }
  async next(count = 1): Promise<Hl7Message[]> {
    while (this.acks.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error('no ACK within 60 s'));
        }, 60000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.acks.splice(0, count);
  }
  close(): void {
    this.socket.destroy();
  }
}
const msa = (ack: Hl7Message) => [ack.get(ack.segment('MSA'), 1), ack.get(ack.segment('MSA'), 2)];

describe('MLLP listener', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let port: number;

  beforeAll(async () => {
    gp = await startMessageReceiver();
    t = await startTestGateway({ env: { MLLP_PORT: '0', MLLP_SENDERS: 'PSYK-EPJ|265161000016004=demo-hospital' } });
    port = t.gateway.mllp?.port ?? 0;
    await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(directoryBundle(gp.url)).expect(200);
  });
  afterAll(async () => {
    await t.close();
    await gp.close();
  });

  it('answers AA once the letter is stored, and the GP receives it', async () => {
    const client = await MllpClient.open(port);
    try {
      const before = gp.unique.size;
      client.socket.write(encodeFrame(hl7('MLLP-1')));
      const [ack] = await client.next();
      expect(msa(ack!)).toEqual(['AA', 'MLLP-1']);
      const stored = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE idempotency_key = 'hl7-PSYK-EPJ-MLLP-1'`,
      );
      expect(stored[0]?.n).toBe(1);
      await gp.waitFor(before + 1);
    } finally {
      client.close();
    }
  });

  it('handles several messages on one connection, in order, and frames split across packets', async () => {
    const client = await MllpClient.open(port);
    try {
      const all = Buffer.concat(['MLLP-2', 'MLLP-3', 'MLLP-4'].map((id) => encodeFrame(hl7(id))));
      for (let i = 0; i < all.length; i += 97) {
        client.socket.write(all.subarray(i, i + 97));
        await new Promise((r) => setImmediate(r));
      }
      const acks = await client.next(3);
      expect(acks.map(msa)).toEqual([
        ['AA', 'MLLP-2'],
        ['AA', 'MLLP-3'],
        ['AA', 'MLLP-4'],
      ]);
    } finally {
      client.close();
    }
  });

  it('answers a duplicate control id with AA and stores it once', async () => {
    const client = await MllpClient.open(port);
    try {
      client.socket.write(encodeFrame(hl7('MLLP-5')));
      client.socket.write(encodeFrame(hl7('MLLP-5')));
      expect((await client.next(2)).map(msa)).toEqual([
        ['AA', 'MLLP-5'],
        ['AA', 'MLLP-5'],
      ]);
      const stored = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE idempotency_key = 'hl7-PSYK-EPJ-MLLP-5'`,
      );
      expect(stored[0]?.n).toBe(1);
    } finally {
      client.close();
    }
  });

  it('answers AE naming the field for a letter it cannot use, AR for an unknown sender and for garbage, and keeps the connection', async () => {
    const client = await MllpClient.open(port);
    try {
      client.socket.write(encodeFrame(hl7('MLLP-6').replace('0101901234^^^CPR^NNDNK', '0101901234^^^HOSP^MR')));
      const [noCpr] = await client.next();
      expect(msa(noCpr!)).toEqual(['AE', 'MLLP-6']);
      expect(noCpr!.get(noCpr!.segment('ERR'), 2, 1)).toBe('PID');

      client.socket.write(encodeFrame(hl7('MLLP-7').replace('PSYK-EPJ', 'UNKNOWN-APP')));
      const [stranger] = await client.next();
      expect(msa(stranger!)).toEqual(['AR', 'MLLP-7']);

      client.socket.write(Buffer.from('this is not mllp\r\n'));
      const [garbage] = await client.next();
      expect(garbage!.get(garbage!.segment('MSA'), 1)).toBe('AR');

      client.socket.write(encodeFrame('not hl7 at all'));
      const [notHl7] = await client.next();
      expect(notHl7!.get(notHl7!.segment('MSA'), 1)).toBe('AR');
      expect(notHl7!.get(notHl7!.segment('ERR'), 8)).toMatch(/MSH/);

      client.socket.write(encodeFrame(hl7('MLLP-8')));
      expect(msa((await client.next())[0]!)).toEqual(['AA', 'MLLP-8']);
    } finally {
      client.close();
    }
  });

  it('delivers what it acknowledged, tracked like any message', async () => {
    const rows = await t.db.query<{ id: string }>(
      `SELECT id FROM messages WHERE idempotency_key = 'hl7-PSYK-EPJ-MLLP-8'`,
    );
    const id = rows[0]?.id ?? '';
    await eventually(async () => {
      const r = await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? true : undefined;
    });
  });
});
