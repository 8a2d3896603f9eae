import { buildAck } from '../../../src/hl7v2/ack';
import { encodeFrame, MllpFramer } from '../../../src/hl7v2/mllp-framer';
import { parseHl7Message } from '../../../src/hl7v2/parse';

const frames = (events: ReturnType<MllpFramer['push']>) =>
  events.map((e) => (e.kind === 'frame' ? e.frame.toString() : `!${e.error}`));

describe('MLLP framing', () => {
  it('decodes one frame, several frames in a chunk, and a frame split across chunks', () => {
    const f = new MllpFramer(1000);
    expect(frames(f.push(encodeFrame('MSH|one')))).toEqual(['MSH|one']);
    expect(frames(f.push(Buffer.concat([encodeFrame('MSH|two'), encodeFrame('MSH|three')])))).toEqual([
      'MSH|two',
      'MSH|three',
    ]);
    const split = encodeFrame('MSH|four');
    expect(frames(f.push(split.subarray(0, 3)))).toEqual([]);
    expect(frames(f.push(split.subarray(3, split.length - 1)))).toEqual([]);
    expect(frames(f.push(split.subarray(split.length - 1)))).toEqual(['MSH|four']);
  });

  it('keeps a 0x1C that is not followed by 0x0D inside the message', () => {
    const f = new MllpFramer(1000);
    expect(frames(f.push(Buffer.from([0x0b, 0x41, 0x1c, 0x42, 0x1c, 0x0d])))).toEqual(['A\x1cB']);
  });

  it('reports data outside a frame, and resynchronises at the next start block', () => {
    const f = new MllpFramer(1000);
    expect(frames(f.push(Buffer.concat([Buffer.from('garbage'), encodeFrame('MSH|ok')])))).toEqual([
      '!unframed',
      'MSH|ok',
    ]);
    expect(frames(f.push(Buffer.from('\r\n  ')))).toEqual([]);
  });

  it('reports a frame over the limit', () => {
    const f = new MllpFramer(10);
    expect(frames(f.push(encodeFrame('MSH|this is far too long')))).toEqual(['!oversize']);
  });
});

describe('HL7 ACK', () => {
  const msg = parseHl7Message('MSH|^~\\&|EPJ|265161000016004|SB|SB|20261120||MDM^T02|C-1|P|2.5\rPID|1');

  it('acknowledges with MSA-2 = the control id and the sender as receiver', () => {
    const ack = parseHl7Message(buildAck(msg, 'AA', new Date('2026-11-22T10:00:00Z'), 'A-1'));
    expect(ack.messageType).toMatchObject({ code: 'ACK', trigger: 'T02' });
    expect(ack.get(ack.segment('MSH'), 5)).toBe('EPJ');
    expect(ack.get(ack.segment('MSA'), 1)).toBe('AA');
    expect(ack.get(ack.segment('MSA'), 2)).toBe('C-1');
    expect(ack.segment('ERR')).toBeUndefined();
  });

  it('names the problem in ERR, escaping delimiters in the text', () => {
    const ack = parseHl7Message(
      buildAck(msg, 'AE', new Date(), 'A-2', {
        text: 'PID-3: no CPR | ^ here',
        location: 'PID-3',
        hl7ErrorCode: '101',
      }),
    );
    const err = ack.segment('ERR');
    expect(ack.get(ack.segment('MSA'), 1)).toBe('AE');
    expect(ack.get(err, 2, 1)).toBe('PID');
    expect(ack.get(err, 2, 3)).toBe('3');
    expect(ack.get(err, 3, 1)).toBe('101');
    expect(ack.get(err, 8)).toBe('PID-3: no CPR | ^ here');
  });
});
