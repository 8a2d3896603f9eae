import iconv from 'iconv-lite';
import { charsetFromSetting, decodeHl7Bytes, resolveCharset, type Hl7Charset } from '../../../src/hl7v2/charset';
import { Hl7ParseError, parseHl7Message } from '../../../src/hl7v2/parse';

/** MSH-18 decides how bytes become text; invalid bytes and control characters never get through. */
const UTF8: Hl7Charset = { encoding: 'utf8', label: 'UNICODE UTF-8' };
const LATIN1: Hl7Charset = { encoding: 'iso-8859-1', label: '8859/1' };
const message = (msh18: string, pid5: string) =>
  `MSH|^~\\&|PSYK-EPJ|Psykiatrisk Center Demo^265161000016004^L|SEKTORBRO|SEKTORBRO|20261120100500||MDM^T02^MDM_T02|C-1|P|2.5|||AL|NE||${msh18}\rPID|1||0101901234^^^CPR||${pid5}\r`;
const decode = (bytes: Buffer, fallback: Hl7Charset = UTF8) => decodeHl7Bytes(bytes, () => fallback).text;
const refusal = (f: () => unknown): Hl7ParseError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Hl7ParseError);
    return e as Hl7ParseError;
  }
  throw new Error('expected a refusal');
};
const pid5 = (text: string) => {
  const msg = parseHl7Message(text);
  return `${msg.get(msg.segment('PID'), 5, 2)} ${msg.get(msg.segment('PID'), 5, 1)}`;
};

describe('HL7 v2 character sets (MSH-18, HL7 table 0211)', () => {
  it.each([
    ['8859/1', 'Åse^Prøvesen'],
    ['8859/2', 'Łucja^Dvořák'],
    ['8859/4', 'Āse^Prøvesen'],
    ['8859/5', 'Ольга^Иванова'],
    ['8859/7', 'Ελένη^Παπαδοπούλου'],
    ['8859/9', 'Ayşe^Yılmaz'],
    ['8859/15', 'Åse^Prøvesen €'],
    ['UNICODE UTF-8', 'Åse^Prøvesen 李'],
    ['UNICODE', 'Åse^Prøvesen'],
    ['GB 18030-2000', '李^王'],
    ['KS X 1001', '김^이'],
    ['BIG-5', '陳^林'],
    ['UNICODE UTF-16', 'Åse^Prøvesen'],
    ['UNICODE UTF-32', 'Åse^Prøvesen'],
    ['ASCII', 'Ase^Provesen'],
  ])('decodes a message declared %s in that set', (msh18, name) => {
    const charset = resolveCharset(msh18, UTF8);
    const encoding =
      charset.encoding === 'utf-16' ? 'utf-16be' : charset.encoding === 'utf-32' ? 'utf-32be' : charset.encoding;
    const bytes = iconv.encode(message(msh18, name), encoding);
    expect(decode(bytes)).toBe(message(msh18, name));
  });

  it('reads raw Latin-1 bytes declared 8859/1 as Latin-1, whatever the default', () => {
    const bytes = Buffer.from(message('8859/1', 'Prøvesen^Åse'), 'latin1');
    expect(pid5(decode(bytes, UTF8))).toBe('Åse Prøvesen');
  });

  it('uses the sender default for a missing or unknown MSH-18, and only then', () => {
    const latin1 = Buffer.from(message('', 'Prøvesen^Åse'), 'latin1');
    expect(pid5(decode(latin1, LATIN1))).toBe('Åse Prøvesen');
    expect(pid5(decode(Buffer.from(message('WINDOWS-1252?', 'Prøvesen^Åse'), 'latin1'), LATIN1))).toBe('Åse Prøvesen');
    // Without a default that fits, the same bytes are invalid UTF-8: refused, never U+FFFD.
    expect(refusal(() => decode(latin1, UTF8)).location).toBe('PID-5');
  });

  it('decodes each message of a batch in the set its own MSH-18 names', () => {
    const bytes = Buffer.concat([
      Buffer.from('BHS|^~\\&|PSYK-EPJ\r'),
      Buffer.from(message('8859/1', 'Prøvesen^Åse'), 'latin1'),
      Buffer.from(message('UNICODE UTF-8', 'Prøvesen^Åse').replace('C-1', 'C-2'), 'utf8'),
      Buffer.from('BTS|2\r'),
    ]);
    const text = decode(bytes);
    expect(text.match(/Prøvesen\^Åse/g)).toHaveLength(2);
  });

  it.each([
    ['a byte undefined in ISO 8859-3', '8859/3', Buffer.from([0xa5]), 'PID-5', /8859\/3/],
    ['a broken UTF-8 sequence', 'UNICODE UTF-8', Buffer.from([0xc3, 0x28]), 'PID-5', /UNICODE UTF-8/],
    ['a byte above 0x7F in ASCII', 'ASCII', Buffer.from([0xe6]), 'PID-5', /ASCII/],
    ['a C1 control in Latin-1', '8859/1', Buffer.from([0x81]), 'PID-5', /U\+0081.*8859\/1/],
    ['a NUL', 'UNICODE UTF-8', Buffer.from([0x00]), 'PID-5', /U\+0000/],
    ['a U+FFFD written by an earlier system', 'UNICODE UTF-8', Buffer.from([0xef, 0xbf, 0xbd]), 'PID-5', /MSH-18/],
  ])('refuses %s naming the field and MSH-18', (_name, msh18, bad, location, text) => {
    const [before = '', after = ''] = message(msh18, 'Jensen^Mette').split('Mette');
    const bytes = Buffer.concat([Buffer.from(before, 'latin1'), bad, Buffer.from(`Mette${after}`, 'latin1')]);
    const error = refusal(() => decode(bytes));
    expect(error.location).toBe(location);
    expect(error.message).toMatch(text);
    expect(error.reason).toBe('hl7-character-set');
  });

  it('refuses a table 0211 set it cannot decode, naming MSH-18', () => {
    const error = refusal(() => decode(Buffer.from(message('ISO IR87', 'Jensen^Mette'))));
    expect(error.location).toBe('MSH-18');
  });

  it('knows table values and charset names as settings, and refuses others', () => {
    expect(charsetFromSetting('8859/1')?.encoding).toBe('iso-8859-1');
    expect(charsetFromSetting('UNICODE_UTF-8')?.encoding).toBe('utf8');
    expect(charsetFromSetting('windows-1252')?.encoding).toBe('windows-1252');
    expect(charsetFromSetting('klingon')).toBeUndefined();
    expect(charsetFromSetting('ISO IR87')).toBeUndefined();
  });
});

describe('HL7 v2 escapes in the declared character set', () => {
  const obx = (msh18: string, value: string) => `${message(msh18, 'Jensen^Mette')}OBX|1|TX|||${value}\r`;
  const value = (text: string) => {
    const msg = parseHl7Message(text);
    return msg.get(msg.segment('OBX'), 5);
  };

  it('decodes \\Xhh\\ in ISO 8859-1 when MSH-18 says 8859/1 (not as UTF-8)', () => {
    expect(value(obx('8859/1', 'Opf\\XF8\\lgning hos egen l\\XE6\\ge; k\\XE6\\re \\XC5\\se.'))).toBe(
      'Opfølgning hos egen læge; kære Åse.',
    );
  });

  it('decodes \\Xhh\\ in UTF-8 when MSH-18 says UTF-8', () => {
    expect(value(obx('UNICODE UTF-8', 'sv\\XC3A6\\r'))).toBe('svær');
  });

  it('keeps locally defined \\Z..\\ escapes as the sender wrote them', () => {
    expect(value(obx('UNICODE UTF-8', 'a \\Zlocal\\ b'))).toBe('a \\Zlocal\\ b');
  });

  it.each([
    ['hex bytes invalid in the declared set', 'UNICODE UTF-8', 'l\\XE6\\ge'],
    ['a NUL by hex escape', '8859/1', 'a\\X00\\b'],
    ['a character-set switch', '8859/1', 'a\\C2842\\b'],
  ])('refuses %s, naming the field', (_name, msh18, text) => {
    const error = refusal(() => parseHl7Message(obx(msh18, text)));
    expect(error.location).toBe('OBX-5');
    expect(error.reason).toBe('hl7-character-set');
    // The MSH was readable, so an ACK can still echo it.
    expect(error.header?.mshField(10)).toBe('C-1');
  });
});
