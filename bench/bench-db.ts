import { randomBytes } from 'node:crypto';
import type { Db } from '../src/store/db';
import { migrate } from '../src/store/migrate';
import { openPgliteDb } from '../src/store/pglite-db';
import { openPostgresDb } from '../src/store/postgres-db';

/**
 * A fresh database for one benchmark run: a private schema in the PostgreSQL at `url`, or in-memory PGlite
 * when there is no url. The default keeps the single-database benches (hl7v2, subscriptions) on DATABASE_URL.
 */
export async function openBenchDb(
  url: string | undefined = process.env.DATABASE_URL,
): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (url) {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const admin = openPostgresDb(url, { max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.close();
    const db = openPostgresDb(url, { schema, max: 20 });
    await migrate(db);
    return {
      db,
      drop: async () => {
        await db.query(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  }
  const db = await openPgliteDb(undefined);
  await migrate(db);
  return { db, drop: () => Promise.resolve() };
}

/** Whether a PostgreSQL answers at `url`: the bench skips that database with a note rather than failing. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const probe = openPostgresDb(url, { max: 1 });
  try {
    await probe.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await probe.close().catch(() => undefined);
  }
}
