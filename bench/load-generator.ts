/**
 * The load generator of bench/throughput.ts, in a process of its own so the gateway's event loop is not shared
 * with it. Reads one job (JSON) from argv[2], prints one JSON result line.
 * - http: autocannon POSTs `body` to `url` with `headers` over `connections` connections for `seconds`.
 * - mllp: `connections` MLLP sockets each send a frame and wait for its ACK before the next; `template` has
 *   MSG-2026-000777 replaced by a fresh control id (MSH-10) each time, so no two are the same message.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import autocannon from 'autocannon';
import { encodeFrame, MllpFramer } from '../src/hl7v2/mllp-framer';

export type LoadJob =
  | {
      kind: 'http';
      url: string;
      body: string;
      headers: Record<string, string>;
      connections: number;
      seconds: number;
    }
  | { kind: 'mllp'; port: number; template: string; connections: number; seconds: number };

export interface LoadResult {
  /** 2xx answers, or AA acknowledgements. */
  ok: number;
  failed: number;
  p50: number;
  p99: number;
}

async function http(job: Extract<LoadJob, { kind: 'http' }>): Promise<LoadResult> {
  const r = await autocannon({
    url: job.url,
    method: 'POST',
    connections: job.connections,
    duration: job.seconds,
    headers: job.headers,
    body: job.body,
  });
  return { ok: r['2xx'], failed: r.non2xx + r.errors, p50: r.latency.p50, p99: r.latency.p99 };
}

async function mllp(job: Extract<LoadJob, { kind: 'mllp' }>): Promise<LoadResult> {
  const end = performance.now() + job.seconds * 1000;
  const samples: number[] = [];
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      const socket = connect(job.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const framer = new MllpFramer(1e7);
      let answer: ((text: string) => void) | undefined;
      socket.on('data', (c: Buffer) => {
        for (const e of framer.push(c)) {
          if (e.kind === 'frame') {
            answer?.(e.frame.toString('latin1'));
          }
        }
      });
      while (performance.now() < end) {
        const started = performance.now();
        const acked = new Promise<string>((r) => {
          answer = r;
        });
        socket.write(encodeFrame(job.template.replace('MSG-2026-000777', `B${randomBytes(8).toString('hex')}`)));
        const ack = await acked;
        samples.push(performance.now() - started);
        if (/\rMSA\|(AA|CA)\|/.test(ack)) {
          ok += 1;
        } else {
          failed += 1;
        }
      }
      socket.destroy();
    }),
  );
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.floor((samples.length - 1) * p)] ?? 0;
  return { ok, failed, p50: pct(0.5), p99: pct(0.99) };
}

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
(job.kind === 'mllp' ? mllp(job) : http(job)).then(
  (result) => {
    console.log(JSON.stringify(result));
    process.exit(0);
  },
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
