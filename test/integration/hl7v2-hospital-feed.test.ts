import { connect, type Socket } from 'node:net';
import type { Bundle, Composition, Encounter, FhirResource, Organization, Patient } from 'fhir/r4';
import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { encodeFrame, MllpFramer } from '../../src/hl7v2/mllp-framer';
import { parseHl7Batch, parseHl7Message, type Hl7Message } from '../../src/hl7v2/parse';
import { KEY, eventually, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * A hospital feed written the way real feeds are: the facility's name in MSH-4, the department's SOR code in
 * PV1-3's facility, Latin-1 bytes (MSH-18 8859/1), a batch, and a test message. End to end over MLLP and
 * HTTP, to a loopback GP receiver.
 */
const SOR = '265161000016004';

function mdm(controlId: string, options: { processingId?: string; text?: string } = {}): string {
  return [
    `MSH|^~\\&|AUH-EPJ|Aarhus Universitetshospital|SEKTORBRO|SEKTORBRO|20261120100500||MDM^T02^MDM_T02|${controlId}|${options.processingId ?? 'P'}|2.5|||AL|NE||8859/1`,
    'EVN|T02|20261120100500',
    'PID|1||0101901234^^^CPR||Prøvesen^Åse||19900101|F',
    `PV1|1|I|Afsnit P3^^^Psykiatrisk Center Demo&${SOR}&ISO||||12345^Holm^Anne^^^Dr.|||||||||||||||||||||||||||||||||||||202610280930|202611201000`,
    `TXA|1|DS|TX|20261120100000|12345^Holm^Anne|||||12345^Holm^Anne||DOC-${controlId}||||AU`,
    `OBX|1|TX|18842-5^Discharge summary^LN||${options.text ?? 'Opfølgning hos egen læge; kære Åse.'}||||||F`,
    '',
  ].join('\r');
}

function adt(controlId: string): string {
  return [
    `MSH|^~\\&|AUH-EPJ|Aarhus Universitetshospital|SEKTORBRO|SEKTORBRO|20261028093500||ADT^A01^ADT_A01|${controlId}|P|2.5|||AL|NE||8859/1`,
    'EVN|A01|20261028093000',
    'PID|1||0101901234^^^CPR||Prøvesen^Åse||19900101|F',
    `PV1|1|I|Afsnit P3^^^Psykiatrisk Center Demo&${SOR}&ISO||||12345^Holm^Anne^^^Dr.|||||||||||||||||||||||||||||||||||||202610280930`,
    '',
  ].join('\r');
}

const batch = (id: string, ...messages: string[]) =>
  `BHS|^~\\&|AUH-EPJ|Aarhus Universitetshospital|SEKTORBRO|SEKTORBRO|20261120100500||||${id}\r${messages.join('')}BTS|${messages.length}\r`;
const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** An MLLP client that reads answers in Latin-1, the set the messages were sent in. */
class MllpClient {
  private readonly framer = new MllpFramer(10_000_000);
  private readonly answers: string[] = [];
  private waiter: (() => void) | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.framer.push(chunk)) {
        if (e.kind === 'frame') {
          this.answers.push(e.frame.toString('latin1'));
        }
      }
      this.waiter?.();
    });
  }
  static async open(port: number): Promise<MllpClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    return new MllpClient(socket);
  }
  async send(bytes: Buffer): Promise<string> {
    this.socket.write(encodeFrame(bytes));
    const deadline = Date.now() + 15000;
    while (this.answers.length === 0) {
      if (Date.now() > deadline) {
        throw new Error('no answer within 15 s');
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.answers.shift() ?? '';
  }
  close(): void {
    this.socket.destroy();
  }
}

const msa = (ack: Hl7Message) => [ack.get(ack.segment('MSA'), 1), ack.get(ack.segment('MSA'), 2)];

describe('a real-shaped hospital feed over MLLP and HTTP', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;
  let mllp: MllpClient;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp({
      env: { MLLP_PORT: '0', MLLP_SENDERS: 'AUH-EPJ|Aarhus Universitetshospital=demo-hospital' },
    }));
    mllp = await MllpClient.open(t.gateway.mllp?.port ?? 0);
  });

  afterAll(async () => {
    mllp.close();
    await close();
  });

  const stored = async (controlId: string) =>
    t.db.query<{ id: string }>(`SELECT id FROM messages WHERE idempotency_key = $1`, [`hl7-AUH-EPJ-${controlId}`]);
  const delivered = async (messageId: string): Promise<Bundle> => {
    const tracking = await eventually(async () => {
      const r = await t.http.get(`/messages/${messageId}`).set('Authorization', `Bearer ${KEY.hospital}`);
      return r.body.status === 'delivered' ? (r.body as { messageHeaderId: string }) : undefined;
    });
    const message = gp.received.find((m) => m.messageHeaderId === tracking.messageHeaderId);
    if (!message) {
      throw new Error('delivered but not received');
    }
    return message.bundle;
  };
  const resource = <T extends FhirResource>(bundle: Bundle, type: T['resourceType']): T =>
    bundle.entry?.find((e) => e.resource?.resourceType === type)?.resource as T;
  const expectLetter = (bundle: Bundle) => {
    expect(resource<Patient>(bundle, 'Patient').name?.[0]).toMatchObject({ family: 'Prøvesen', given: ['Åse'] });
    expect(JSON.stringify(resource<Composition>(bundle, 'Composition').section)).toContain(
      'Opfølgning hos egen læge; kære Åse.',
    );
    const orgs = bundle.entry?.filter((e) => e.resource?.resourceType === 'Organization') ?? [];
    expect(JSON.stringify(orgs.map((e) => (e.resource as Organization).identifier))).toContain(SOR);
    expect(resource<Encounter>(bundle, 'Encounter').period).toEqual({
      start: '2026-10-28T09:30:00+01:00',
      end: '2026-11-20T10:00:00+01:00',
    });
    expect(JSON.stringify(bundle)).not.toMatch(/\uFFFD|Ã/);
  };

  describe('over MLLP', () => {
    it('takes a Latin-1 letter whose MSH-4 is the facility name and whose PV1-3 carries the SOR code', async () => {
      const ack = parseHl7Message(await mllp.send(latin1(mdm('FEED-M1'))));
      expect(msa(ack)).toEqual(['AA', 'FEED-M1']);
      expect(ack.rawField(ack.segment('MSH'), 6)).toBe('Aarhus Universitetshospital');
      expect(ack.rawField(ack.segment('MSH'), 18)).toBe('8859/1');
      const [row] = await stored('FEED-M1');
      expectLetter(await delivered(row?.id ?? ''));
    });

    it('takes a batch message by message and answers each inside BHS … BTS', async () => {
      const answer = await mllp.send(latin1(batch('FEED-MB', mdm('FEED-MB1'), mdm('FEED-MB2', { text: 'Brev B.' }))));
      const read = parseHl7Batch(answer);
      expect(read.controlId).not.toBe('');
      expect(answer).toMatch(/^BHS\|[^\r]*\|FEED-MB\r/);
      expect(read.messages.map((m) => msa(m as Hl7Message))).toEqual([
        ['AA', 'FEED-MB1'],
        ['AA', 'FEED-MB2'],
      ]);
      for (const id of ['FEED-MB1', 'FEED-MB2']) {
        const [row] = await stored(id);
        await delivered(row?.id ?? '');
      }
    });

    it('refuses a test message with AR echoing MSH-11, and stores nothing', async () => {
      const ack = parseHl7Message(await mllp.send(latin1(mdm('FEED-MT', { processingId: 'T' }))));
      expect(msa(ack)).toEqual(['AR', 'FEED-MT']);
      expect(ack.get(ack.segment('MSH'), 11)).toBe('T');
      expect(ack.get(ack.segment('ERR'), 2, 1)).toBe('MSH');
      expect(ack.get(ack.segment('ERR'), 2, 3)).toBe('11');
      expect(await stored('FEED-MT')).toHaveLength(0);
    });

    it('sends the admission (ADT^A01) with its time', async () => {
      const ack = parseHl7Message(await mllp.send(latin1(adt('FEED-MA'))));
      expect(msa(ack)).toEqual(['AA', 'FEED-MA']);
      const [row] = await stored('FEED-MA');
      const bundle = await delivered(row?.id ?? '');
      expect(resource<Encounter>(bundle, 'Encounter').period?.start).toBe('2026-10-28T09:30:00+01:00');
      expect(resource<Patient>(bundle, 'Patient').name?.[0]?.given).toEqual(['Åse']);
    });
  });

  describe('over HTTP', () => {
    const post = (body: Buffer, path = '/hl7v2') =>
      t.http
        .post(path)
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .set('Content-Type', 'x-application/hl7-v2+er7')
        .send(body);

    it('takes the Latin-1 letter (no charset in Content-Type: MSH-18 decides)', async () => {
      const res = await post(latin1(mdm('FEED-H1')), '/discharge-letters');
      expect(res.status).toBe(202);
      expectLetter(await delivered(res.body.id as string));
    });

    it('takes a batch message by message, answering each in a batch-response Bundle', async () => {
      const res = await post(latin1(batch('FEED-HB', mdm('FEED-HB1'), mdm('FEED-HB2', { text: 'Brev B.' }))));
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('batch-response');
      const entries = res.body.entry as Array<{ response: { status: string; location: string } }>;
      expect(entries.map((e) => e.response.status)).toEqual(['202 Accepted', '202 Accepted']);
      for (const e of entries) {
        await delivered(e.response.location.replace('messages/', ''));
      }
    });

    it('refuses the test message naming MSH-11 and stores nothing', async () => {
      const res = await post(latin1(mdm('FEED-HT', { processingId: 'T' })));
      expect(res.status).toBe(422);
      expect(res.body.issue[0].expression).toEqual(['MSH-11']);
      expect(await stored('FEED-HT')).toHaveLength(0);
    });

    it('reads a message without MSH-18 in the Content-Type charset, else the default (UTF-8), never garbled', async () => {
      const noMsh18 = (id: string) => latin1(mdm(id).replace('|||AL|NE||8859/1', '|||AL|NE'));
      const declared = await t.http
        .post('/discharge-letters')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .set('Content-Type', 'text/plain; charset=ISO-8859-1')
        .send(noMsh18('FEED-HC1'));
      expect(declared.status).toBe(202);
      expectLetter(await delivered(declared.body.id as string));
      const undeclared = await post(noMsh18('FEED-HC2'));
      expect(undeclared.status).toBe(400);
      expect(undeclared.body.issue[0].expression).toEqual(['PID-5']);
    });

    it('refuses a byte that is not text in the declared set, naming the field and MSH-18', async () => {
      const body = Buffer.concat([latin1(mdm('FEED-HX').split('Åse.')[0] ?? ''), Buffer.from([0x85]), latin1('\r')]);
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression).toEqual(['OBX-5']);
      expect(res.body.issue[0].diagnostics).toMatch(/MSH-18 8859\/1/);
    });
  });
});
