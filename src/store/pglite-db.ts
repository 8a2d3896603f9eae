import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable } from './db';

/**
 * The embedded database: PostgreSQL compiled to WebAssembly, persisted in a directory (or memory when
 * dataDir is undefined). It is single-connection, so PGlite itself serialises queries and transactions.
 */
export async function openPgliteDb(dataDir: string | undefined): Promise<Db> {
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const run = async <T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const result = await q.query<T>(sql, params ? [...params] : undefined);
    return result.rows;
  };
  return {
    kind: 'pglite',
    query: (sql, params) => run(pg, sql, params),
    exec: async (sql) => {
      await pg.exec(sql);
    },
    transaction: (fn) =>
      pg.transaction(async (tx) => {
        const scoped: Queryable = {
          query: (sql, params) => run(tx, sql, params),
          exec: async (sql) => {
            await tx.exec(sql);
          },
        };
        return fn(scoped);
      }),
    // In-process only: PGlite is one process's database, so there is no other process to hear from.
    listen: async (channel, handlers) => {
      const unsubscribe = await pg.listen(channel, (payload) => {
        handlers.onNotify(payload);
      });
      // A closed PGlite refuses the UNLISTEN; its listeners are gone with it, so there is nothing left to stop
      // (a gateway shutting down after its database was lost must still shut down).
      return async () => {
        if (!pg.closed) {
          await unsubscribe();
        }
      };
    },
    close: () => pg.close(),
  };
}
