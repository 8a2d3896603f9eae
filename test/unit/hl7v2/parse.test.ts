import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7ParseError, parseHl7Message, unescapeHl7 } from '../../../src/hl7v2/parse';

/** The parser follows the standard, not the happy path: delimiters, escapes, repetitions, line ends, junk. */
const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/hl7v2', name), 'utf8');
const D = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

describe('HL7 v2 parser', () => {
  const msg = parseHl7Message(fixture('mdm-t02-discharge.hl7'));

  it('reads delimiters, message type, control id and version from MSH', () => {
    expect(msg.delimiters).toEqual(D);
    expect(msg.messageType).toEqual({ code: 'MDM', trigger: 'T02', structure: 'MDM_T02' });
    expect(msg.controlId).toBe('MSG-2026-000777');
    expect(msg.version).toBe('2.5');
    expect(msg.get(msg.segment('MSH'), 4, 2)).toBe('265161000016004');
  });

  it('splits repetitions, components and sub-components', () => {
    const pid3 = msg.field(msg.segment('PID'), 3);
    // The trailing "~" is an empty repetition, as real messages have.
    expect(pid3).toHaveLength(3);
    expect(pid3[1]?.[0]?.[0]).toBe('0101901234');
    expect(pid3[1]?.[3]?.[0]).toBe('CPR');
    expect(msg.get(msg.segment('PID'), 5, 2)).toBe('Mette');
  });

  it.each([
    ['\\F\\', '|'],
    ['\\S\\', '^'],
    ['\\T\\', '&'],
    ['\\R\\', '~'],
    ['\\E\\', '\\'],
    ['a\\.br\\b', 'a\nb'],
    ['\\X0D\\', '\r'],
    ['\\XC3A6\\', 'æ'],
    ['\\H\\bold\\N\\', 'bold'],
    ['\\Q\\', '\\Q\\'],
    ['unterminated \\F', 'unterminated \\F'],
  ])('unescapes %j as %j', (input, expected) => {
    expect(unescapeHl7(input, D)).toBe(expected);
  });

  it('treats CR, LF and CRLF segment ends alike, and ignores a BOM and trailing blanks', () => {
    const cr = fixture('mdm-t02-discharge.hl7');
    const variants = [cr.replace(/\r/g, '\n'), cr.replace(/\r/g, '\r\n'), `\uFEFF${cr.replace(/\r/g, '  \r')}`];
    for (const v of variants) {
      const parsed = parseHl7Message(v);
      expect(parsed.segmentList.map((s) => s.name)).toEqual(msg.segmentList.map((s) => s.name));
      expect(parsed.get(parsed.segment('OBX'), 5)).toBe(msg.get(msg.segment('OBX'), 5));
    }
  });

  it('keeps unknown Z-segments without failing, and reads missing fields as empty', () => {
    expect(msg.segments('ZXT')).toHaveLength(1);
    expect(msg.get(msg.segment('PID'), 30)).toBe('');
    expect(msg.field(msg.segment('PID'), 4)).toEqual([]);
  });

  it.each([
    ['no MSH', 'PID|1||123', /no MSH/],
    ['a short MSH', 'MSH|^~', /too short/],
    ['repeated delimiters', 'MSH|^^\\&|A', /five distinct/],
    ['a garbage line', 'MSH|^~\\&|A|B\rhello world', /segment 2/],
  ])('refuses %s with an Hl7ParseError naming where', (_name, input, text) => {
    expect(() => parseHl7Message(input)).toThrow(Hl7ParseError);
    expect(() => parseHl7Message(input)).toThrow(text);
  });
});
