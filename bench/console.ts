/**
 * How long the operator console's queries take on a busy database: N messages with one delivery each, spread
 * over the last 7 days (so most lie outside the console's hour), in PGlite. Prints milliseconds per query set.
 * Run: npx tsx bench/console.ts [messages]
 */
import { randomUUID } from 'node:crypto';
import {
  deliveriesByRecipient,
  endpointHealth,
  messagesByKind,
  recentMessages,
  recipientFlows,
  subscriptionHealth,
  waitingDeadLetters,
} from '../src/console/console-stats';
import { createTestDb } from '../test/helpers/test-db';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? '50000');
  const db = await createTestDb();
  const statuses = ['delivered', 'delivered', 'delivered', 'delivered', 'dead', 'failed', 'queued'];
  const batch = 1000;
  for (let start = 0; start < n; start += batch) {
    const rows = Array.from({ length: Math.min(batch, n - start) }, (_, i) => {
      const k = start + i;
      return {
        id: randomUUID(),
        d: randomUUID(),
        ageS: Math.floor(Math.random() * 7 * 86400),
        status: statuses[k % statuses.length]!,
        sor: `48110100001${k % 50}`,
      };
    });
    await db.query(
      `INSERT INTO messages (id, kind, status, sender_client_id, sender_role, patient_cpr, message_header_id, request_hash, response, created_at, updated_at)
       SELECT (r->>'id')::uuid, 'discharge-letter', r->>'status', 'demo-hospital', 'hospital', '0101901234', gen_random_uuid(), 'x', '{}',
              now() - ((r->>'ageS')::int * interval '1 second'), now() - ((r->>'ageS')::int * interval '1 second')
         FROM jsonb_array_elements($1::jsonb) r`,
      [JSON.stringify(rows)],
    );
    await db.query(
      `INSERT INTO deliveries (id, message_id, recipient_value, endpoint_address, connection_type, bundle, status, attempts, delivered_at, created_at, updated_at)
       SELECT (r->>'d')::uuid, (r->>'id')::uuid, r->>'sor', 'http://gp-' || (r->>'sor') || '.example/fhir', 'hl7-fhir-msg', '{}', r->>'status', 1,
              CASE WHEN r->>'status' = 'delivered' THEN now() - ((r->>'ageS')::int * interval '1 second') + interval '300 milliseconds' END,
              now() - ((r->>'ageS')::int * interval '1 second'), now() - ((r->>'ageS')::int * interval '1 second')
         FROM jsonb_array_elements($1::jsonb) r`,
      [JSON.stringify(rows)],
    );
  }
  // As autovacuum would on PostgreSQL: the planner needs statistics to choose the indexes.
  await db.query('ANALYZE');
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    await Promise.all([
      messagesByKind(db),
      deliveriesByRecipient(db),
      recipientFlows(db),
      endpointHealth(db),
      subscriptionHealth(db),
      waitingDeadLetters(db),
    ]);
    const t1 = performance.now();
    await recentMessages(db, { limit: 100 });
    const t2 = performance.now();
    console.log(
      `${n} messages: overview queries ${(t1 - t0).toFixed(0)} ms, newest messages ${(t2 - t1).toFixed(0)} ms`,
    );
  }
  await db.close();
}

void main();
