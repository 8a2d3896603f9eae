import { randomBytes } from 'node:crypto';
import type { Db } from '../src/store/db';
import { migrate } from '../src/store/migrate';
import { openPgliteDb } from '../src/store/pglite-db';
import { openPostgresDb } from '../src/store/postgres-db';

/** A fresh database for one benchmark run: a private schema in DATABASE_URL's PostgreSQL, or in-memory PGlite. */
export async function openBenchDb(): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const admin = openPostgresDb(process.env.DATABASE_URL, { max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.close();
    const db = openPostgresDb(process.env.DATABASE_URL, { schema, max: 20 });
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
