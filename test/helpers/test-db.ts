import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/store/db';
import { migrate } from '../../src/store/migrate';
import { openPgliteDb } from '../../src/store/pglite-db';
import { openPostgresDb } from '../../src/store/postgres-db';

/**
 * A fresh, migrated database for one test file: in-memory PGlite by default, or a private schema in the
 * PostgreSQL that DATABASE_URL names (so the same tests run against both).
 */
export async function createTestDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await openPgliteDb(undefined);
    await migrate(db);
    return db;
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = openPostgresDb(url, { max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.close();
  const db = openPostgresDb(url, { schema, max: 10 });
  await migrate(db);
  const close = db.close.bind(db);
  return {
    ...db,
    kind: db.kind,
    query: db.query.bind(db),
    exec: db.exec.bind(db),
    transaction: db.transaction.bind(db),
    async close() {
      await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await close();
    },
  };
}
