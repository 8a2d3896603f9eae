import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7ParseError, parseHl7Message, unescapeHl7 } from '../../../src/hl7v2/parse';

/** The parser follows the standard, not the happy path: delimiters, escapes, repetitions, line ends, junk. */
const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/hl7v2', name), 'utf8');
const corpus = (name: string) => readFileSync(join(__dirname, '../../../../shared/corpus/hl7v2', name), 'latin1');
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
    const unix = parseHl7Message(corpus('sample_unix.hl7'));
    const win = parseHl7Message(corpus('sample_win.hl7'));
    // The two corpus files differ only in line ends and in a few MSH fields.
    expect(win.segmentList.map((s) => s.name)).toEqual(unix.segmentList.map((s) => s.name));
    expect(win.get(win.segment('PID'), 5, 1)).toBe(unix.get(unix.segment('PID'), 5, 1));
    expect(win.delimiters).toEqual(D);
  });

  it('takes the delimiters the message declares (field ^, component ~, repetition |)', () => {
    const odd = parseHl7Message(corpus('segmentfinder_a24.hl7'));
    expect(odd.delimiters).toMatchObject({ field: '^', component: '~', repetition: '|' });
    expect(odd.messageType.code).toBe('ADT');
    expect(odd.messageType.trigger).toBe('A24');
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

  it.each(readdirSync(join(__dirname, '../../../../shared/corpus/hl7v2/fuzz-nhapi')))('answers fuzz input %s with a parse or a clean error, never a crash', (file) => {
    const input = readFileSync(join(__dirname, '../../../../shared/corpus/hl7v2/fuzz-nhapi', file), 'latin1');
    let outcome = 'parsed';
    try {
      parseHl7Message(input).segmentList.forEach((s) => s.raw.length);
    } catch (e) {
      expect(e).toBeInstanceOf(Hl7ParseError);
      outcome = 'refused';
    }
    expect(['parsed', 'refused']).toContain(outcome);
  });
});
