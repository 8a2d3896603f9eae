import {
  LosslessNumber,
  isLosslessNumber,
  parse as losslessParse,
  stringify as losslessStringify,
} from 'lossless-json';

/**
 * JSON bodies as FHIR reads them (FHIR R4 JSON, §2.6.2 "JSON representation of resources"):
 * - every property name once per object (RFC 8259 leaves duplicates to the reader; FHIR does not allow them,
 *   and a reader that lets the last one win routes a letter on a CPR number the sender may not have meant);
 * - no `__proto__`, `constructor` or `prototype` keys: not FHIR (or gateway) names, and the ones JavaScript code
 *   that walks a body can trip over;
 * - no string that is empty or only whitespace ("strings SHALL NOT be empty": absent, not blank), none with a NUL;
 * - nesting no deeper than {@link MAX_JSON_DEPTH}, checked on the text before anything recursive (the parser,
 *   hashing, validation) walks it;
 * - numbers kept as written: a number whose JSON text is not what JavaScript would print for it (`0.60`, `1.0`,
 *   `1e2`, an integer beyond 2^53) is kept as a lossless-json `LosslessNumber` holding the text, so a FHIR decimal
 *   keeps its precision (FHIR R4 §2.24.0.1 decimal: "the precision of the decimal value ... SHALL be preserved").
 *   {@link stringifyJson} writes such numbers back byte for byte; {@link withPlainNumbers} gives the same tree
 *   with JavaScript numbers, for validators and schema checks that need them.
 */
export const MAX_JSON_DEPTH = 100;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a JSON text is refused, with the JSON path of the element (`entry[1].resource.identifier`). */
export class JsonInputError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly reason:
      | 'malformed-json'
      | 'duplicate-property'
      | 'forbidden-property'
      | 'blank-string'
      | 'too-deep'
      | 'number-out-of-range',
  ) {
    super(message);
    this.name = 'JsonInputError';
  }
}

type Frame = { kind: 'object'; keys: Set<string>; key: string | undefined } | { kind: 'array'; index: number };

function pathOf(stack: readonly Frame[]): string {
  let path = '';
  for (const f of stack) {
    if (f.kind === 'array') {
      path += `[${f.index}]`;
    } else if (f.key !== undefined) {
      path += /^[A-Za-z_$][\w$]*$/.test(f.key) ? `${path ? '.' : ''}${f.key}` : `[${JSON.stringify(f.key)}]`;
    }
  }
  return path || '(root)';
}

/** Index of the closing quote of the string starting at `start` (a `"`), or -1 when it does not end. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) {
      return -1;
    }
    let backslashes = 0;
    for (let j = quote - 1; j > start && text.charCodeAt(j) === 92; j--) {
      backslashes++;
    }
    if (backslashes % 2 === 0) {
      return quote;
    }
    i = quote + 1;
  }
}

function decode(literal: string): string | undefined {
  if (!literal.includes('\\')) {
    return literal.slice(1, -1);
  }
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined; // a bad escape: the parser reports it
  }
}

/**
 * One iterative pass over the text (no recursion, so any depth is safe to look at): throws a JsonInputError
 * for nesting deeper than `maxDepth`, a property given twice, a forbidden key or a blank string. Malformed
 * JSON is left to the parser, which reports it with a position.
 */
export function checkJsonText(text: string, maxDepth = MAX_JSON_DEPTH): WrittenNumbers {
  const stack: Frame[] = [];
  const written: WrittenNumbers = { numbers: [], outOfRange: false };
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if ((c >= 48 && c <= 57) /* 0-9 */ || c === 45 /* - */) {
      // A number (or, in malformed text, something the parser will refuse): its lexeme is every character
      // a JSON number may contain. Numbers JavaScript prints back the same need nothing; the others are noted.
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) {
        end++;
      }
      const lexeme = text.slice(i, end);
      const n = Number(lexeme);
      if (!Number.isFinite(n)) {
        written.outOfRange = true;
      } else if (String(n) !== lexeme) {
        written.numbers.push({ path: stack.map((f) => (f.kind === 'array' ? f.index : (f.key ?? ''))), lexeme });
      }
      i = end - 1;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (stack.length >= maxDepth) {
        throw new JsonInputError(
          `${pathOf(stack)}: nested more than ${maxDepth} levels deep; no FHIR resource or gateway input is`,
          pathOf(stack),
          'too-deep',
        );
      }
      stack.push(c === 123 ? { kind: 'object', keys: new Set(), key: undefined } : { kind: 'array', index: 0 });
      expectKey = c === 123;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 44 /* , */) {
      if (top?.kind === 'array') {
        top.index++;
      } else if (top?.kind === 'object') {
        expectKey = true;
      }
    } else if (c === 58 /* : */) {
      expectKey = false;
    } else if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) {
        return { numbers: written.numbers, outOfRange: true }; // unterminated: the parser reports it
      }
      const value = decode(text.slice(i, end + 1));
      if (value !== undefined && top?.kind === 'object' && expectKey) {
        top.key = value;
        if (FORBIDDEN_KEYS.has(value)) {
          throw new JsonInputError(
            `${pathOf(stack)}: "${value}" is not a property name FHIR or the gateway defines, and is refused`,
            pathOf(stack),
            'forbidden-property',
          );
        }
        if (top.keys.has(value)) {
          throw new JsonInputError(
            `${pathOf(stack)}: the property "${value}" is given more than once in the same object; ` +
              'JSON for FHIR allows each name once, and the gateway will not guess which one was meant',
            pathOf(stack),
            'duplicate-property',
          );
        }
        top.keys.add(value);
      } else if (value !== undefined && value.trim() === '') {
        throw new JsonInputError(
          `${pathOf(stack)}: a string must not be empty or only whitespace; leave the element out instead`,
          pathOf(stack),
          'blank-string',
        );
      }
      i = end;
    }
  }
  return written;
}

/** `0-9 + - . e E`: the characters a JSON number is written with. */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 101 || c === 69;
}

/**
 * What {@link checkJsonText} saw of the numbers outside strings: each one JavaScript would not print back the
 * same (`0.60`, `1e2`, `-0`, beyond 2^53), by its path of keys and indexes, and whether any is beyond a double's
 * range (or the text ends inside a string), which only the lossless parser reports as today.
 */
export interface WrittenNumbers {
  readonly numbers: Array<{ readonly path: ReadonlyArray<string | number>; readonly lexeme: string }>;
  outOfRange: boolean;
}

/** The lexeme as a JavaScript number when that prints back the same, else kept as written. */
function parseNumber(lexeme: string): number | LosslessNumber {
  const n = Number(lexeme);
  if (!Number.isFinite(n)) {
    throw new JsonInputError(`the number ${lexeme.slice(0, 40)} is out of range`, '(number)', 'number-out-of-range');
  }
  return String(n) === lexeme ? n : new LosslessNumber(lexeme);
}

/**
 * Checks (see {@link checkJsonText}) and parses a JSON text, keeping numbers as written.
 *
 * Fast path: the check has already refused duplicate and forbidden keys, blank strings and deep nesting, and
 * noted every number that needs keeping as written, so the text goes to the engine's JSON.parse (a 9 MB hospital
 * document: ~20 ms against ~1.8 s in lossless-json, which builds each string a character at a time) and those
 * few numbers are put back as LosslessNumbers at their paths. Whatever JSON.parse refuses, and a number out of
 * range, goes to the lossless parser, so malformed text gets today's error with its position.
 * @throws JsonInputError naming the JSON path, for malformed JSON too (path "(root)", the parser's position).
 */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const written = checkJsonText(text, maxDepth);
  if (!written.outOfRange) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return parseLosslessly(text);
    }
    const kept = keepWrittenNumbers(value, written);
    if (kept) {
      return kept.value;
    }
  }
  return parseLosslessly(text);
}

/**
 * The tree JSON.parse gave with each noted number as the LosslessNumber of its text; undefined when a noted
 * number is not where the check saw it (never expected: the caller then parses the slow way rather than guess).
 */
function keepWrittenNumbers(value: unknown, written: WrittenNumbers): { value: unknown } | undefined {
  let root = value;
  for (const { path, lexeme } of written.numbers) {
    const kept = new LosslessNumber(lexeme);
    if (path.length === 0) {
      root = kept;
      continue;
    }
    let parent: unknown = root;
    for (const step of path.slice(0, -1)) {
      parent = parent !== null && typeof parent === 'object' ? (parent as Record<string, unknown>)[step] : undefined;
    }
    const last = path[path.length - 1] as string | number;
    if (parent === null || typeof parent !== 'object' || !Object.hasOwn(parent, last)) {
      return undefined;
    }
    const holder = parent as Record<string | number, unknown>;
    if (typeof holder[last] !== 'number') {
      return undefined;
    }
    holder[last] = kept;
  }
  return { value: root };
}

/** The lossless-json parse (every text once; now the path for what JSON.parse refuses and numbers out of range). */
export function parseLosslessly(text: string): unknown {
  try {
    return losslessParse(text, null, {
      parseNumber,
      onDuplicateKey: ({ key }) => {
        // checkJsonText refuses duplicates first; this stays as a second line.
        throw new JsonInputError(`the property "${key}" is given more than once`, key, 'duplicate-property');
      },
    });
  } catch (e) {
    if (e instanceof JsonInputError) {
      throw e;
    }
    throw new JsonInputError(`malformed JSON (${(e as Error).message.slice(0, 200)})`, '(root)', 'malformed-json');
  }
}

/** JSON the gateway wrote itself (a stored Bundle), numbers kept as written; no input checks. */
export function parseStoredJson(text: string): unknown {
  return losslessParse(text, null, (lexeme) => {
    const n = Number(lexeme);
    return String(n) === lexeme ? n : new LosslessNumber(lexeme);
  });
}

/** JSON text of a value, with numbers kept as written (LosslessNumber) printed as their text. */
export function stringifyJson(value: unknown): string {
  return losslessStringify(value) ?? 'null';
}

/** The same tree with LosslessNumbers as JavaScript numbers (a new tree where one was found; input untouched). */
export function withPlainNumbers<T>(value: T): T {
  if (isLosslessNumber(value)) {
    return Number((value as LosslessNumber).value) as T;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const w = withPlainNumbers(v);
      changed ||= w !== v;
      return w;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const w = withPlainNumbers(v);
      changed ||= w !== v;
      Object.defineProperty(out, k, { value: w, enumerable: true, writable: true, configurable: true });
    }
    return (changed ? out : value) as T;
  }
  return value;
}

/** A deep copy of a JSON tree that keeps LosslessNumbers (structuredClone would turn them into plain objects). */
export function cloneJson<T>(value: T): T {
  if (isLosslessNumber(value)) {
    return new LosslessNumber((value as LosslessNumber).value) as T;
  }
  if (Array.isArray(value)) {
    return value.map((v: unknown) => cloneJson(v)) as T;
  }
  if (value !== null && typeof value === 'object') {
    if (value instanceof Date) {
      return new Date(value.getTime()) as T;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = cloneJson(v);
    }
    return out as T;
  }
  return value;
}

/** True for a number kept as written (see parseJsonText). */
export function isWrittenNumber(value: unknown): value is LosslessNumber {
  return isLosslessNumber(value);
}
