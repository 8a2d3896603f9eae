import type { Queryable } from './db';

/**
 * A piece of parameterised SQL built with the `sql` tag. Values are kept apart from the text and numbered
 * `$1, $2, ...` only when the whole statement is rendered, so fragments compose (an optional condition, a
 * cursor, a list of columns) without anyone counting parameters by hand. Raw SQL stays: this only numbers.
 */
export class Sql {
  /** Text pieces; `values[i]` sits between `strings[i]` and `strings[i + 1]`. Never nested Sql. */
  readonly strings: readonly string[];
  readonly values: readonly unknown[];

  constructor(strings: readonly string[], values: readonly unknown[]) {
    // Flatten nested fragments at construction, so rendering is a single pass.
    // `tail` is the text piece being built; it is pushed when a parameter follows it.
    const outStrings: string[] = [];
    const outValues: unknown[] = [];
    let tail = strings[0] ?? '';
    values.forEach((value, i) => {
      if (value instanceof Sql) {
        value.values.forEach((v, j) => {
          outStrings.push(tail + (value.strings[j] ?? ''));
          outValues.push(v);
          tail = '';
        });
        tail += value.strings[value.values.length] ?? '';
      } else {
        outStrings.push(tail);
        outValues.push(value);
        tail = '';
      }
      tail += strings[i + 1] ?? '';
    });
    outStrings.push(tail);
    this.strings = outStrings;
    this.values = outValues;
  }

  /** The statement text with `$n` placeholders, numbered from 1 in order of appearance. */
  get text(): string {
    return this.strings.reduce((text, piece, i) => `${text}$${i}${piece}`);
  }
}

/**
 * Tagged template for parameterised SQL: every `${value}` becomes a numbered parameter, except an `Sql`
 * fragment, which is inlined with its own values renumbered. Casts go in the text: `${ids}::uuid[]`.
 *
 *     sql`SELECT id FROM deliveries WHERE ${and(sql`status = ${s}`, kind && sql`kind = ${kind}`)} LIMIT ${n}`
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

/**
 * Trusted text with no parameters (a column list or an ORDER BY the code itself chose). Never pass input here:
 * it is not escaped.
 */
export function raw(text: string): Sql {
  return new Sql([text], []);
}

/** Fragments joined by `separator` (default `, `); empty input gives empty text. */
export function join(fragments: readonly Sql[], separator = ', '): Sql {
  if (fragments.length === 0) {
    return raw('');
  }
  const strings = ['', ...fragments.slice(1).map(() => separator), ''];
  return new Sql(strings, fragments);
}

/**
 * Conditions joined with AND, each in parentheses; `undefined`, `false` and `''` are left out, so optional
 * filters read as `kind && sql\`m.kind = ${kind}\``. No condition at all is `TRUE`.
 */
export function and(...conditions: ReadonlyArray<Sql | undefined | false | ''>): Sql {
  const present = conditions.filter((c): c is Sql => c instanceof Sql);
  if (present.length === 0) {
    return raw('TRUE');
  }
  return join(
    present.map((c) => sql`(${c})`),
    ' AND ',
  );
}

/** Runs a statement built with `sql` and returns its rows. */
export function query<T = Record<string, unknown>>(db: Queryable, statement: Sql): Promise<T[]> {
  return db.query<T>(statement.text, statement.values);
}
