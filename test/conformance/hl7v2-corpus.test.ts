import { Hl7ParseError, parseHl7Message } from '../../src/hl7v2/parse';
import { listShared, readShared } from './shared-dir';

/** The HL7 v2 parser against public messages it did not write: other tools' samples and nHapi's fuzz inputs. */
const corpus = (name: string) => readShared('latin1', 'corpus/hl7v2', name);
const D = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

describe('HL7 v2 parser on the public corpus', () => {
  it('reads the same message with Unix and Windows line ends alike', () => {
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

  it.each(listShared('corpus/hl7v2/fuzz-nhapi'))(
    'answers fuzz input %s with a parse or a clean error, never a crash',
    (file) => {
      const input = corpus(`fuzz-nhapi/${file}`);
      let outcome = 'parsed';
      try {
        parseHl7Message(input).segmentList.forEach((s) => s.raw.length);
      } catch (e) {
        expect(e).toBeInstanceOf(Hl7ParseError);
        outcome = 'refused';
      }
      expect(['parsed', 'refused']).toContain(outcome);
    },
  );
});
