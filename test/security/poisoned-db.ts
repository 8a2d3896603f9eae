import type { Db, Queryable } from '../../src/store/db';

/**
 * A real database whose message insert can be made to fail with a real database error, the kind that carries
 * the values: `missing-table` sends the insert, parameters and all, to a table that does not exist (PGlite's
 * error then holds `query` and `params`: the whole message Bundle); `bad-cast` casts the Bundle parameter to
 * an integer (the error's message quotes the Bundle, on PGlite and PostgreSQL alike). Nothing is mocked: the
 * database itself raises the error.
 */
export type Poison = 'none' | 'missing-table' | 'bad-cast';

export interface PoisonedDb extends Db {
  poison: Poison;
}

export function poisonedDb(real: Db): PoisonedDb {
  const rewrite = (sql: string, params: readonly unknown[] | undefined): string => {
    if (self.poison === 'none' || !/^\s*INSERT INTO messages\b/i.test(sql)) {
      return sql;
    }
    if (self.poison === 'missing-table') {
      return sql.replace(/INSERT INTO messages\b/i, 'INSERT INTO messages_that_do_not_exist');
    }
    const values = params ?? [];
    const bundle = values.findIndex((p) => typeof p === 'string' && p.includes('"resourceType"'));
    return `SELECT ${values.map((_, i) => `$${i + 1}::text`).join(', ')}, ($${bundle + 1}::text)::int`;
  };
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => q.query(rewrite(sql, params), params),
    exec: (sql) => q.exec(sql),
  });
  const self: PoisonedDb = {
    poison: 'none',
    kind: real.kind,
    ...wrap(real),
    transaction: (fn) => real.transaction((tx) => fn(wrap(tx))),
    close: () => real.close(),
  };
  return self;
}
