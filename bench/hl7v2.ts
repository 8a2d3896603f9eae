/**
 * HL7 v2 benchmark: parse+map throughput on one core (the fixture MDM^T02 and the corpus ORU-multiline.hl7,
 * 529 OBX lines), and MLLP round-trip latency (frame sent → AA received) against a gateway on loopback.
 *   npx tsx bench/hl7v2.ts        (DATABASE_URL for PostgreSQL; default embedded PGlite)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startMessageReceiver } from '../scripts/fhir-message-receiver';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway';
import { encodeFrame, MllpFramer } from '../src/hl7v2/mllp-framer';
import { parseHl7Message } from '../src/hl7v2/parse';
import { mapNativeDischargeLetter } from '../src/mappers/discharge-letter/from-native';
import { mapHl7ToDischargeLetter } from '../src/mappers/hl7v2/to-discharge-letter';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { directoryBundle } from '../test/helpers/directory-fixture';
import { testContext } from '../test/helpers/mapping-context';
import { openBenchDb } from './bench-db';

const mdm = readFileSync(join(__dirname, '../test/fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');
const oru = readFileSync(join(__dirname, '../../shared/corpus/hl7v2/ORU-multiline.hl7'), 'latin1');

function throughput(name: string, run: () => void, seconds = 3): void {
  for (let i = 0; i < 200; i += 1) {
    run();
  }
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    run();
    n += 1;
  }
  console.log(`${name.padEnd(44)} ${(n / seconds).toFixed(0).padStart(8)} msg/s`);
}

async function mllpLatency(): Promise<void> {
  const receiver = await startMessageReceiver();
  const { db, drop } = await openBenchDb();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    // The benchmark measures throughput, not the per-client rate limit.
    RATE_LIMIT_REQUESTS: '100000000',
    QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    MLLP_PORT: '0',
    MLLP_SENDERS: 'PSYK-EPJ=demo-hospital',
  });
  const gateway = await startGateway(config, {
    db,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  const { default: request } = await import('supertest');
  await request(gateway.app)
    .post('/fhir')
    .set('Authorization', 'Bearer demo-admin-key-000001')
    .send(directoryBundle(receiver.url))
    .expect(200);
  const socket = connect(gateway.mllp?.port ?? 0, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const framer = new MllpFramer(1e7);
  let resolveAck: (() => void) | undefined;
  socket.on('data', (c: Buffer) => {
    if (framer.push(c).some((e) => e.kind === 'frame')) {
      resolveAck?.();
    }
  });
  const samples: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    const started = performance.now();
    const acked = new Promise<void>((r) => {
      resolveAck = r;
    });
    socket.write(encodeFrame(mdm.replace('MSG-2026-000777', `BENCH-${randomBytes(6).toString('hex')}`)));
    await acked;
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => (samples[Math.floor((samples.length - 1) * p)] ?? 0).toFixed(1);
  console.log(
    `MLLP round trip (frame → AA, durably stored, ${db.kind}, 300 sequential): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`,
  );
  socket.destroy();
  await gateway.queue.obliterate({ force: true });
  await gateway.close();
  await drop();
  await db.close();
  await receiver.close();
}

async function main(): Promise<void> {
  console.log(`HL7 v2 benchmark, node ${process.version}, one core`);
  throughput('parse MDM^T02 fixture', () => parseHl7Message(mdm));
  throughput('parse+map MDM^T02 → FHIR document', () =>
    mapNativeDischargeLetter(mapHl7ToDischargeLetter(parseHl7Message(mdm)), testContext()),
  );
  throughput('parse corpus ORU-multiline.hl7 (529 OBX)', () => parseHl7Message(oru));
  await mllpLatency();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
