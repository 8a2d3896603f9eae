import { Pool, type PoolClient } from 'pg';
import type { Db, Queryable } from './db';
import { listenPostgres } from './postgres-listener';

/** PostgreSQL through a pg connection pool: what production runs on. */
export function openPostgresDb(url: string, options: { schema?: string; max?: number } = {}): Db {
  const connection = {
    connectionString: url,
    connectionTimeoutMillis: 5000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
  const pool = new Pool({ ...connection, max: options.max ?? 20 });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const run = async <T>(q: Pool | PoolClient, sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const result = await q.query(sql, params ? [...params] : undefined);
    return result.rows as T[];
  };
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const scoped: Queryable = {
          query: (sql, params) => run(client, sql, params),
          exec: async (sql) => {
            await client.query(sql);
          },
        };
        const result = await fn(scoped);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    listen: (channel, handlers) => listenPostgres(connection, channel, handlers),
    close: () => pool.end(),
  };
}
