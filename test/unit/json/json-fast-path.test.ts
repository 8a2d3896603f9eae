import fc from 'fast-check';
import {
  JsonInputError,
  checkJsonText,
  parseJsonText,
  parseLosslessly,
  stringifyJson,
} from '../../../src/json/json-text';

/**
 * parseJsonText reads most texts with JSON.parse and puts numbers written as `0.60` back afterwards
 * (json-text.ts). Whatever the path, the answer must be the lossless parser's: the same tree with the same
 * numbers kept as written, or the same refusal. Checked on generated texts, including malformed ones.
 */
type Outcome = { ok: string } | { refused: string };

const outcome = (parse: () => unknown): Outcome => {
  try {
    return { ok: stringifyJson(parse()) };
  } catch (e) {
    if (e instanceof JsonInputError) {
      return { refused: `${e.reason} ${e.path} ${e.message}` };
    }
    throw e;
  }
};

/** The fast path, and what parseJsonText did before it: the same checks, then the lossless parser alone. */
const both = (text: string): [Outcome, Outcome] => [
  outcome(() => parseJsonText(text)),
  outcome(() => {
    checkJsonText(text);
    return parseLosslessly(text);
  }),
];

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('0.60', '1.0', '1e2', '-0', '12345678901234567890', '1E-7', '-0.0', '100.000', '1e400', '-1e999'),
);
const key = fc.constantFrom('a', 'value', 'valueDecimal', 'é', 'x y', '\\u0061', '1', '0', 'entry');
const leaf = fc.oneof(
  numberText,
  fc.constantFrom('true', 'false', 'null', '"x"', '"0.60"', '"-1"', '"a\\"b"', '" "', '""'),
);
const tree = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 4, selector: ([k]) => k })
      .map((pairs) => `{${pairs.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
  ),
})).value;

/** One to three characters changed, dropped or added: mostly malformed text. */
const mangled = fc
  .tuple(tree, fc.nat(), fc.constantFrom('', ',', '}', ']', '"', '-', '0', '.', 'e', ' ', '\\', '{', '['))
  .map(([text, at, c]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    return text.slice(0, i) + c + text.slice(i + 1);
  });

describe('parseJsonText fast path', () => {
  it('keeps written numbers at every depth and at the root', () => {
    const text = '{"a":[1.0,{"b":0.60,"c":[[-0]]}],"d":{"e":1e2},"f":12345678901234567890,"g":2}';
    expect(stringifyJson(parseJsonText(text))).toBe(text);
    expect(stringifyJson(parseJsonText('1.50'))).toBe('1.50');
    expect(stringifyJson(parseJsonText('[0.10,0.20]'))).toBe('[0.10,0.20]');
  });

  it('keeps a written number under a key that needs an escape or is a number', () => {
    const text = '{"\\u0061":1.0,"1":2.50,"x\\"y":3.0}';
    expect(parseJsonText(text)).toEqual(parseLosslessly(text));
  });

  it('agrees with the lossless parser on generated JSON', () => {
    fc.assert(
      fc.property(tree, (text) => {
        const [fast, slow] = both(text);
        expect(fast).toEqual(slow);
      }),
      { numRuns: 3000, seed: 16 },
    );
  });

  it('agrees with the lossless parser on mangled JSON', () => {
    fc.assert(
      fc.property(mangled, (text) => {
        const [fast, slow] = both(text);
        expect(fast).toEqual(slow);
      }),
      { numRuns: 3000, seed: 17 },
    );
  });
});
