import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAck, buildBatchAck, cutAtWord } from '../../../src/hl7v2/ack';
import { Hl7ParseError, parseHl7Batch, parseHl7Message } from '../../../src/hl7v2/parse';
import { UnmappableInput } from '../../../src/mappers/unmappable-input';
import { edMimeType } from '../../../src/mappers/hl7v2/attachment-type';
import { readHl7DateTime } from '../../../src/mappers/hl7v2/datetime';
import { departmentSor } from '../../../src/mappers/hl7v2/department';
import { processingIdIssue } from '../../../src/mappers/hl7v2/processing-id';
import { mapHl7ToDischargeLetter } from '../../../src/mappers/hl7v2/to-discharge-letter';
import { mapHl7ToEncounterNotification } from '../../../src/mappers/hl7v2/to-encounter-notification';
import { testContext } from '../../helpers/mapping-context';

/** HL7 v2 meaning beyond syntax: null, dates, batches, ED typing, the department's SOR, MSH-11 and ACKs. */
const fixture = (name = 'mdm-t02-discharge.hl7') => readFileSync(join(__dirname, '../../fixtures/hl7v2', name), 'utf8');
const refusal = (f: () => unknown): UnmappableInput => {
  try {
    f();
  } catch (e) {
    return e as UnmappableInput;
  }
  throw new Error('expected a refusal');
};
const letter = (text: string, sor?: string) => mapHl7ToDischargeLetter(parseHl7Message(text), { departmentSor: sor });

describe('the HL7 null ""', () => {
  it('is an absent value, never the text ""', () => {
    const text = fixture()
      .replace('Jensen^Mette^^^', 'Prøvesen^""')
      .replace('PV1|1|I|Afsnit P3^^^Psykiatrisk Center Demo', 'PV1|1|I|""^^^Psykiatrisk Center Demo');
    const l = letter(text);
    expect(l.patient.name).toEqual({ family: 'Prøvesen' });
    expect(l.department.name).toBe('Psykiatrisk Center Demo');
    expect(JSON.stringify(l)).not.toContain('\\"\\"');
  });
});

describe('HL7 v2 dates and times', () => {
  it.each([
    ['2026', '2026'],
    ['202610', '2026-10'],
    ['20261028', '2026-10-28'],
    ['2026102809', '2026-10-28T09:00:00+01:00'],
    ['202610280930', '2026-10-28T09:30:00+01:00'],
    ['20260701093000', '2026-07-01T09:30:00+02:00'],
    ['20261028093000.1234', '2026-10-28T09:30:00.1234+01:00'],
    ['20261028093000-0500', '2026-10-28T09:30:00-05:00'],
    ['20240229', '2024-02-29'],
  ])('reads %s as %s (full precision, offsets honoured, Danish time by default)', (input, expected) => {
    expect(readHl7DateTime(input, 'PV1-44').fhir).toBe(expected);
  });

  it.each([
    ['20260230', /no day 30/],
    ['20250229', /no day 29/],
    ['20261301', /month 13/],
    ['20261028240000', /time of day/],
    ['20261028096000', /time of day/],
    ['2026102', /not an HL7 date/],
    ['2026-10-28', /not an HL7 date/],
    ['20261028093000+2500', /offset/],
  ])('refuses %s naming the HL7 field', (input, why) => {
    const error = refusal(() => readHl7DateTime(input, 'PV1-44'));
    expect(error).toBeInstanceOf(UnmappableInput);
    expect(error.issues[0]?.expression).toEqual('PV1-44');
    expect(error.issues[0]?.diagnostics).toMatch(/^PV1-44: /);
    expect(error.issues[0]?.diagnostics).toMatch(why);
  });

  it('refuses an impossible date in every field read, naming that field (not admission.start)', () => {
    for (const [from, to, field] of [
      ['20261028093000|20261120100000', '20260230093000|20261120100000', 'PV1-44'],
      ['20261028093000|20261120100000', '20261028093000|20261131100000', 'PV1-45'],
      ['TXA|1|DS|TX|20261120100000', 'TXA|1|DS|TX|20261320100000', 'TXA-4'],
      ['EVN|T02|20261120100500', 'EVN|T02|20261120250500', 'EVN-2'],
    ] as const) {
      const error = refusal(() => letter(fixture().replace(from, to)));
      expect(error.issues[0]?.expression).toEqual(field);
    }
  });

  it('takes the time zone of MSH-7 for times without their own, and refuses a discharge before the admission', () => {
    const summer = fixture().replace('20261120100500||MDM', '20261120100500+0000||MDM');
    expect(letter(summer).admission.start).toBe('2026-10-28T09:30:00+00:00');
    const backwards = fixture().replace('20261028093000|20261120100000', '20261028093000|20261027100000');
    expect(refusal(() => letter(backwards)).issues[0]?.expression).toEqual('PV1-45');
  });

  it('keeps PV1-44 09:30 in the admission notification Encounter', () => {
    const n = mapHl7ToEncounterNotification(parseHl7Message(fixture('adt-a01.hl7')), testContext());
    expect(n.focus.resource.period?.start).toBe('2026-10-28T09:30:00+01:00');
  });
});

describe('HL7 v2 batches', () => {
  const one = (id: string) => fixture().replace('MSG-2026-000777', id);

  it('reads every message of a BHS … BTS batch, in order', () => {
    const batch = parseHl7Batch(`BHS|^~\\&|PSYK-EPJ|265161000016004|||||||B-1\r${one('A')}${one('B')}BTS|2\r`);
    expect(batch.controlId).toBe('B-1');
    expect(batch.messages.map((m) => (m instanceof Hl7ParseError ? 'error' : m.controlId))).toEqual(['A', 'B']);
  });

  it('keeps the other messages when one cannot be read, with that one’s MSH for its ACK', () => {
    const broken = one('B').replace('EVN|', 'not a segment|');
    const batch = parseHl7Batch(`BHS|^~\\&|X\r${one('A')}${broken}${one('C')}BTS|3\r`);
    const [a, b, c] = batch.messages;
    expect(a).not.toBeInstanceOf(Hl7ParseError);
    expect(b).toBeInstanceOf(Hl7ParseError);
    expect((b as Hl7ParseError).header?.mshField(10)).toBe('B');
    expect(c).not.toBeInstanceOf(Hl7ParseError);
  });

  it('refuses the batch whole when BTS-1 counts other than it holds', () => {
    expect(() => parseHl7Batch(`BHS|^~\\&|X\r${one('A')}BTS|2\r`)).toThrow(/BTS-1/);
  });

  it('never reads a batch as its first message (the rest dropped silently)', () => {
    expect(() => parseHl7Message(`BHS|^~\\&|X\r${one('A')}${one('B')}BTS|2\r`)).toThrow(/batch of 2/);
    expect(() => parseHl7Message(`${one('A')}${one('B')}`)).toThrow(/batch of 2/);
  });
});

describe('ED attachments (HL7 tables 0191/0291 or MIME type/subtype)', () => {
  it.each([
    ['AP', 'PDF', 'application/pdf'],
    ['AP', 'pdf', 'application/pdf'],
    ['application', 'pdf', 'application/pdf'],
    ['IM', 'JPEG', 'image/jpeg'],
    ['image', 'png', 'image/png'],
    ['IM', 'TIFF', 'image/tiff'],
    ['TEXT', '', 'text/plain'],
    ['TX', 'PLAIN', 'text/plain'],
    ['AP', 'RTF', 'application/rtf'],
    ['AP', 'Octet-stream', 'application/octet-stream'],
    ['XX', 'PDF', undefined],
    ['AP', 'WHATEVER', undefined],
  ])('types %s^%s as %s', (type, subtype, mime) => {
    expect(edMimeType(type, subtype)).toBe(mime);
  });

  it('delivers ^AP^PDF^Base64^… as application/pdf, and refuses an untyped one naming OBX-5', () => {
    const ap = fixture().replace('^application^pdf^Base64^', '^AP^PDF^Base64^');
    expect(letter(ap).attachments?.[0]?.contentType).toBe('application/pdf');
    const odd = fixture().replace('^application^pdf^Base64^', '^AP^XYZ^Base64^');
    expect(refusal(() => letter(odd)).issues[0]?.expression).toEqual('OBX-5');
    const notBase64 = fixture().replace('^application^pdf^Base64^JVBERi0x', '^application^pdf^Base64^!!!!');
    expect(refusal(() => letter(notBase64)).issues[0]?.expression).toEqual('OBX-5');
  });
});

describe("where the department's SOR code comes from", () => {
  const named = (text: string) =>
    text.replace('Psykiatrisk Center Demo^265161000016004^L', 'Aarhus Universitetshospital^AUH^L');

  it('is MSH-4 when that is a SOR code', () => {
    expect(departmentSor(parseHl7Message(fixture()))).toEqual({ sor: '265161000016004', source: 'MSH-4' });
  });

  it("else PV1-3's facility (PL.4 universal id), for a feed whose MSH-4 is a name", () => {
    const text = named(fixture()).replace(
      'Afsnit P3^^^Psykiatrisk Center Demo',
      'Afsnit P3^^^Psykiatrisk Center Demo&265161000016004&ISO',
    );
    expect(departmentSor(parseHl7Message(text))).toEqual({ sor: '265161000016004', source: 'PV1-3' });
    expect(letter(text).department).toEqual({ sor: '265161000016004', name: 'Afsnit P3' });
  });

  it("else the sender's configured department; a name, a SHAK code or nothing alone is refused naming MSH-4", () => {
    const text = named(fixture());
    expect(departmentSor(parseHl7Message(text), '265161000016004').source).toBe('sender');
    expect(refusal(() => letter(text)).issues[0]?.expression).toEqual('MSH-4');
    const shak = fixture().replace('Psykiatrisk Center Demo^265161000016004^L', '7001^^L');
    expect(refusal(() => letter(shak)).issues[0]?.expression).toEqual('MSH-4');
  });
});

describe('MSH-11 processing id', () => {
  it.each(['T', 'D', ''])('refuses %j (never to a production recipient), naming MSH-11', (id) => {
    const msg = parseHl7Message(fixture().replace('|P|2.5|', `|${id}|2.5|`));
    expect(processingIdIssue(msg)).toMatchObject({ expression: 'MSH-11', reason: 'hl7-processing-id' });
  });

  it('takes P', () => {
    expect(processingIdIssue(parseHl7Message(fixture()))).toBeUndefined();
  });
});

describe('ACKs', () => {
  const now = new Date('2026-11-22T10:00:00Z');

  it("echo the sender's whole HD in MSH-5/6, its trigger, MSH-11 and MSA-2", () => {
    const text = fixture().replace('|P|2.5|', '|T^A|2.5|').replace('|PSYK-EPJ|', '|PSYK-EPJ^1.2.3^ISO|');
    const ack = parseHl7Message(buildAck(parseHl7Message(text), 'AR', now, 'ACK-1', { text: 'no' }));
    const msh = ack.segment('MSH');
    expect(ack.rawField(msh, 5)).toBe('PSYK-EPJ^1.2.3^ISO');
    expect(ack.rawField(msh, 6)).toBe('Psykiatrisk Center Demo^265161000016004^L');
    expect(ack.rawField(msh, 9)).toBe('ACK^T02^ACK');
    expect(ack.rawField(msh, 11)).toBe('T^A');
    expect(ack.get(ack.segment('MSA'), 2)).toBe('MSG-2026-000777');
  });

  it('still echo MSH when a later segment could not be read', () => {
    const error = (() => {
      try {
        parseHl7Message(fixture().replace('EVN|', 'garbage|'));
      } catch (e) {
        return e as Hl7ParseError;
      }
      throw new Error('expected a parse error');
    })();
    const ack = parseHl7Message(
      buildAck(error.header, 'AE', now, 'ACK-2', { text: error.message, location: error.location }),
    );
    expect(ack.get(ack.segment('MSA'), 2)).toBe('MSG-2026-000777');
    expect(ack.rawField(ack.segment('MSH'), 5)).toBe('PSYK-EPJ');
    expect(ack.rawField(ack.segment('MSH'), 9)).toBe('ACK^T02^ACK');
  });

  it('cut MSA-3 and ERR texts at a word, never inside an escape', () => {
    const text = `PID-5: ${'ordet '.repeat(20)}and the | delimiter`;
    const ack = parseHl7Message(buildAck(parseHl7Message(fixture()), 'AE', now, 'ACK-3', { text }));
    const msa3 = ack.get(ack.segment('MSA'), 3);
    expect(msa3.length).toBeLessThanOrEqual(80);
    expect(msa3).toMatch(/ordet\.\.\.$/);
    expect(cutAtWord('kort', 80)).toBe('kort');
  });

  it('answer a batch with one ACK per message inside BHS … BTS', () => {
    const a = buildAck(parseHl7Message(fixture()), 'AA', now, 'A');
    const batch = buildBatchAck({ controlId: 'B-1', separator: '|' }, [a, a], now, 'BA-1');
    const read = parseHl7Batch(batch);
    expect(read.messages).toHaveLength(2);
    expect(batch).toMatch(/BTS\|2\r$/);
  });
});
