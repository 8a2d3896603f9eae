import { mkdtempSync, readdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../src/store/db';
import { migrate, MIGRATIONS_DIR } from '../../src/store/migrate';
import { openPgliteDb } from '../../src/store/pglite-db';
import { openPostgresDb } from '../../src/store/postgres-db';
import { DELIVERY_STATUSES } from '../../src/store/delivery-row';
import { MESSAGE_STATUSES } from '../../src/store/message-row';
import { TASK_STATUSES } from '../../src/mappers/status-report/task';
import { REMINDER_KINDS, REMINDER_STATES } from '../../src/status-report/task-store';
import { PAYLOAD_CONTENTS, SUBSCRIPTION_STATUSES } from '../../src/mappers/subscription/backport';
import { CERTIFICATE_STATUSES } from '../../src/mappers/sick-leave/types';

/**
 * Migration 012 on a database that has lived under the earlier migrations: a dead letter discarded the old way
 * (`failed` + "discarded by <client>: <reason>" in last_error) gets its discard columns back-filled; the
 * renamed recipient column keeps its value; and every status CHECK lists exactly its TypeScript union.
 * PGlite by default, PostgreSQL when DATABASE_URL is set.
 */
async function openEmptyDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    return openPgliteDb(undefined);
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = openPostgresDb(url, { max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.close();
  const db = openPostgresDb(url, { schema, max: 2 });
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

describe('migration 012 (discard columns, recipient_value, status CHECKs)', () => {
  let db: Db;
  let before: string;
  const messageId = randomUUID();
  const discardedId = randomUUID();
  const deadId = randomUUID();

  beforeAll(async () => {
    db = await openEmptyDb();
    before = mkdtempSync(join(tmpdir(), 'migrations-'));
    for (const f of readdirSync(MIGRATIONS_DIR).filter((n) => n.endsWith('.sql') && n < '012')) {
      copyFileSync(join(MIGRATIONS_DIR, f), join(before, f));
    }
    await migrate(db, before);
    await db.query(
      `INSERT INTO messages (id, kind, status, sender_client_id, sender_role, sender_sector, message_header_id,
                             request_hash, response)
       VALUES ($1, 'discharge-letter', 'failed', 'demo-hospital', 'hospital', 'health', $2, 'h', '{}'::jsonb)`,
      [messageId, randomUUID()],
    );
    for (const [id, status, error] of [
      [discardedId, 'failed', 'discarded by demo-admin: patient moved: sent on paper'],
      [deadId, 'dead', 'HTTP 500 (gave up after 3 attempts)'],
    ]) {
      await db.query(
        `INSERT INTO deliveries (id, message_id, recipient_sor, endpoint_address, connection_type, bundle, status, last_error)
         VALUES ($1, $2, '123456789012345', 'https://gp.example/fhir', 'hl7-fhir-rest', '{}'::jsonb, $3, $4)`,
        [id, messageId, status, error],
      );
    }
    expect(await migrate(db)).toEqual(readdirSync(MIGRATIONS_DIR).filter((n) => n.endsWith('.sql') && n >= '012'));
  });

  afterAll(async () => {
    rmSync(before, { recursive: true, force: true });
    await db.close();
  });

  it('back-fills who discarded a dead letter and why from the old last_error prefix, and only there', async () => {
    const rows = await db.query<{
      id: string;
      recipient_value: string;
      discarded_by: string | null;
      discard_reason: string | null;
      discarded: boolean;
      last_error: string;
    }>(
      `SELECT id, recipient_value, discarded_by, discard_reason, discarded_at IS NOT NULL AS discarded, last_error
         FROM deliveries ORDER BY last_error`,
    );
    expect(rows).toEqual([
      {
        id: deadId,
        recipient_value: '123456789012345',
        discarded_by: null,
        discard_reason: null,
        discarded: false,
        last_error: 'HTTP 500 (gave up after 3 attempts)',
      },
      {
        id: discardedId,
        recipient_value: '123456789012345',
        discarded_by: 'demo-admin',
        discard_reason: 'patient moved: sent on paper',
        discarded: true,
        last_error: 'discarded by demo-admin: patient moved: sent on paper',
      },
    ]);
  });

  it('refuses a discard on a delivery that is not failed, and a half-written discard', async () => {
    await expect(
      db.query("UPDATE deliveries SET discarded_at = now(), discarded_by = 'x', discard_reason = 'y' WHERE id = $1", [
        deadId,
      ]),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.query("UPDATE deliveries SET status = 'failed', discarded_at = now() WHERE id = $1", [deadId]),
    ).rejects.toMatchObject({ code: '23514' });
  });

  const checks: Array<[string, string, readonly string[]]> = [
    ['messages', 'messages_status_known', MESSAGE_STATUSES],
    ['deliveries', 'deliveries_status_known', DELIVERY_STATUSES],
    ['tasks', 'tasks_status_known', TASK_STATUSES],
    ['task_reminders', 'task_reminders_kind_known', REMINDER_KINDS],
    ['task_reminders', 'task_reminders_state_known', REMINDER_STATES],
    ['subscriptions', 'subscriptions_status_known', SUBSCRIPTION_STATUSES],
    ['subscriptions', 'subscriptions_content_known', PAYLOAD_CONTENTS],
    ['certificates', 'certificates_status_known', CERTIFICATE_STATUSES],
  ];

  it.each(checks)('%s CHECK %s lists exactly the TypeScript union', async (table, name, values) => {
    const rows = await db.query<{ def: string }>(
      `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
        WHERE c.conname = $1 AND c.conrelid = to_regclass($2)`,
      [name, table],
    );
    expect(rows).toHaveLength(1);
    const listed = [...(rows[0]?.def ?? '').matchAll(/'([^']*)'::text/g)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...values].sort());
  });

  it('refuses a status outside the union', async () => {
    await expect(db.query("UPDATE deliveries SET status = 'lost' WHERE id = $1", [deadId])).rejects.toMatchObject({
      code: '23514',
    });
    await expect(db.query("UPDATE messages SET status = 'sent' WHERE id = $1", [messageId])).rejects.toMatchObject({
      code: '23514',
    });
  });
});
