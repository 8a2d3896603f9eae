import { JsonInputError, parseJsonText, stringifyJson, withPlainNumbers } from '../../../src/json/json-text';
import { calendarProblem } from '../../../src/validation/calendar';
import { narrativeProblem } from '../../../src/validation/narrative-xhtml';

/** JSON read as FHIR reads it (json-text.ts), the calendar and the narrative rules (issue 14, item 4). */
const refusal = (text: string): JsonInputError => {
  try {
    parseJsonText(text);
  } catch (e) {
    if (e instanceof JsonInputError) {
      return e;
    }
    throw e;
  }
  throw new Error(`accepted: ${text}`);
};

describe('parseJsonText', () => {
  it('keeps a decimal as written and prints it back byte for byte', () => {
    const text = '{"a":0.60,"b":1.0,"c":1e2,"d":12345678901234567890,"e":0.6,"f":-3}';
    const parsed = parseJsonText(text);
    expect(stringifyJson(parsed)).toBe(text);
    expect(withPlainNumbers(parsed)).toEqual({
      a: 0.6,
      b: 1,
      c: 100,
      d: Number('12345678901234567890'),
      e: 0.6,
      f: -3,
    });
  });

  it.each([
    ['{"a":1,"a":1}', 'duplicate-property', 'a'],
    ['{"x":[{"id":"1","id":"2"}]}', 'duplicate-property', 'x[0].id'],
    ['{"a":{"\\u0061":1,"a":2}}', 'duplicate-property', 'a.a'],
    ['{"__proto__":{"admin":true}}', 'forbidden-property', '__proto__'],
    ['{"a":{"constructor":1}}', 'forbidden-property', 'a.constructor'],
    ['{"title":" "}', 'blank-string', 'title'],
    ['{"title":"\\t\\n"}', 'blank-string', 'title'],
    ['{"list":["x",""]}', 'blank-string', 'list[1]'],
    ['{"n":1e400}', 'number-out-of-range', '(number)'],
    ['{"a":', 'malformed-json', '(root)'],
  ])('refuses %s (%s at %s)', (text, reason, path) => {
    const e = refusal(text);
    expect(e.reason).toBe(reason);
    expect(e.path).toBe(path);
  });

  it('refuses nesting beyond the limit on the text, whatever the depth, without recursing', () => {
    const e = refusal(`{"patient":${'['.repeat(200000)}${']'.repeat(200000)}}`);
    expect(e.reason).toBe('too-deep');
    expect(() => parseJsonText(`{"a":${'['.repeat(99)}${']'.repeat(99)}}`)).not.toThrow();
  });

  it('reads escaped quotes and backslashes in strings', () => {
    expect(parseJsonText('{"a":"x\\\\","b":"\\"q\\""}')).toEqual({ a: 'x\\', b: '"q"' });
  });
});

describe('calendarProblem', () => {
  it.each([
    '2026-02-30',
    '2025-02-29',
    '2026-04-31',
    '2026-13',
    '2026-00-01',
    '2026-01-01T24:00:00Z',
    '2026-01-01T10:00:00+15:00',
  ])('refuses %s', (value) => {
    expect(calendarProblem(value)).toBeDefined();
  });
  it.each(['2024-02-29', '2026', '2026-02', '2026-12-31T23:59:60Z', '2000-02-29T09:30:00.123+01:00'])(
    'takes %s',
    (value) => {
      expect(calendarProblem(value)).toBeUndefined();
    },
  );
});

describe('narrativeProblem', () => {
  const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
  it.each([
    [div('<p>x</p><script>alert(1)</script>'), /<script>/],
    [div('<p onclick="alert(1)">x</p>'), /onclick/],
    [div('<form><p>x</p></form>'), /<form>/],
    [div('<p>x<img src="https://t.example/p.gif"/></p>'), /image/],
    [div('<a href="javascript:alert(1)">x</a>'), /link/],
    [div('<a href="JaVaScript&#58;alert(1)">x</a>'), /link/],
    [div('<a href="data:text/html,x">x</a>'), /link/],
    [div('<a href="tel:javascript:alert(1)">x</a>'), /link/],
    [div('<a href="file:///etc/passwd">x</a>'), /link/],
    [div('<p style="background:url(https://t.example)">x</p>'), /style/],
    [div('<p>x&nbsp;y</p>'), /well-formed/],
    [div('<p>unclosed'), /well-formed/],
    ['<div><p>x</p></div>', /xmlns/],
    [div('<p> </p>'), /no text/],
    [div('<iframe src="#x"></iframe>'), /<iframe>/],
  ])('refuses %s', (text, why) => {
    expect(narrativeProblem(text)).toMatch(why);
  });

  it('takes the basic XHTML a narrative may use', () => {
    expect(
      narrativeProblem(
        div(
          '<h1>T</h1><p class="x" style="color:red">a <b>b</b> <a href="#s">c</a> <a href="https://sundhed.dk">d</a> <a href="Organization-1.html">h</a> <a href="tel:+4538683868">i</a></p>' +
            '<table><tr><td colspan="2">e</td></tr></table><ul><li>f</li></ul><img src="#pic" alt="g"/>',
        ),
      ),
    ).toBeUndefined();
  });
});
