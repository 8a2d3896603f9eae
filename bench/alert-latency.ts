/**
 * How long a symptom-report alert takes from the patient's POST to the care manager's endpoint, idle and while
 * a backlog of routine discharge letters is being delivered (the alert is relayed first and queued at the head).
 * A real gateway on real Redis and a database, a loopback receiver (the GP and the care manager, by path) that
 * answers each letter after BENCH_RECEIVER_MS, so routine work piles up in the queue.
 *
 *   npx tsx bench/alert-latency.ts                  # PGlite in memory
 *   DATABASE_URL=postgres://... BENCH_LETTERS=2000 npx tsx bench/alert-latency.ts
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageHeader } from 'fhir/r4';
import request from 'supertest';
import { startMessageReceiver } from '../scripts/fhir-message-receiver';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { SYSTEM } from '../src/mappers/systems';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { careManagerDirectory, careTeam, phq9Response } from '../test/helpers/symptom-reports';
import { openBenchDb } from './bench-db';

const letters = Number(process.env.BENCH_LETTERS ?? 500);
const alerts = Number(process.env.BENCH_ALERTS ?? 10);
const receiverMs = Number(process.env.BENCH_RECEIVER_MS ?? 20);
const key = (role: string) => DEMO_CLIENTS.find((c) => c.role === role)!.apiKey;
const letter = readFileSync(join(__dirname, '../test/fixtures/discharge-letter.native.json'), 'utf8');
const CM_SOR = DEMO_CLIENTS.find((c) => c.role === 'caremanager')!.organization.value;

async function main(): Promise<void> {
  const { db, drop } = await openBenchDb();
  const receiver = await startMessageReceiver({ behaviour: { kind: 'slow', delayMs: receiverMs } });
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: `bench-alert-${randomBytes(4).toString('hex')}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PUBLIC_BASE_URL: 'http://gateway.bench',
  });
  const gateway = await startGateway(config, {
    db,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const http = request(gateway.app);
  const post = (path: string, k: string, body: unknown, type = 'application/fhir+json') =>
    http
      .post(path)
      .set('Authorization', `Bearer ${k}`)
      .set('Content-Type', type)
      .send(typeof body === 'string' ? body : JSON.stringify(body));
  await post('/fhir', key('admin'), directoryBundle(receiver.url)).expect(200);
  await post(
    '/fhir',
    key('admin'),
    careManagerDirectory(CM_SOR, 'Opfølgningsteamet', `${receiver.url}/caremanager`),
  ).expect(200);
  await post('/fhir/CareTeam', key('hospital'), careTeam(CM_SOR)).expect(201);
  await post('/fhir/Consent', key('patient'), {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEM.cpr, value: '0101901234' } },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { identifier: { system: SYSTEM.sector, value: 'health' } },
        },
      ],
      purpose: [{ system: SYSTEM.actReason, code: 'TREAT' }],
      class: [{ system: SYSTEM.dataClass, code: 'symptom-report' }],
    },
  }).expect(201);

  const alertArrived = (after: number) =>
    receiver.received.findIndex(
      (m, i) =>
        i >= after &&
        m.path.startsWith('/caremanager') &&
        (m.bundle.entry?.[0]?.resource as MessageHeader).eventCoding?.code === 'symptom-report-alert',
    );
  const measure = async (): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < alerts; i += 1) {
      const from = receiver.received.length;
      const started = performance.now();
      await post('/symptom-reports', key('patient'), phq9Response([3, 3, 3, 3, 3, 3, 3, 3, 1])).expect(201);
      while (alertArrived(from) < 0) {
        await new Promise((r) => setTimeout(r, 2));
      }
      out.push(performance.now() - started);
    }
    return out;
  };
  const summary = (label: string, ms: number[]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(0);
    console.log(`${label}: n=${ms.length} median ${pct(50)} ms, p90 ${pct(90)} ms, max ${pct(100)} ms`);
  };
  summary('idle', await measure());

  // A backlog: letters posted at concurrency 16 (each also copied to the care manager) while the alerts are measured.
  let sent = 0;
  let stop = false;
  const load = Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!stop && sent < letters) {
        sent += 1;
        await post('/discharge-letters', key('hospital'), letter, 'application/json').expect(202);
      }
    }),
  );
  while ((await gateway.queue.getWaitingCount()) < 100 && sent < letters) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const waiting = await gateway.queue.getWaitingCount();
  summary(
    `under load (letters posting at concurrency 16; ${waiting} jobs waiting at the first alert)`,
    await measure(),
  );
  const waitingAfter = await gateway.queue.getWaitingCount();
  console.log(`jobs waiting after the last alert: ${waitingAfter}`);
  stop = true;
  await load;
  await gateway.queue.obliterate({ force: true }).catch(() => undefined);
  await gateway.close();
  await receiver.close();
  await drop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
