import { mkdirSync } from 'node:fs';
import type { Config } from '../config';
import type { Db } from './db';
import { migrate } from './migrate';
import { openPgliteDb } from './pglite-db';
import { openPostgresDb } from './postgres-db';

/** Opens the configured database and brings its schema up to date; `onMigrated` hears which migrations ran. */
export async function openDb(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  onMigrated?: (applied: string[]) => void,
): Promise<Db> {
  let db: Db;
  if (config.databaseUrl) {
    db = openPostgresDb(config.databaseUrl);
  } else {
    mkdirSync(config.dataDir, { recursive: true });
    db = await openPgliteDb(config.dataDir);
  }
  const applied = await migrate(db);
  onMigrated?.(applied);
  return db;
}
