import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { QueueComponent } from './component';
import type { ConnectionType } from '../directory/directory';
import { completeDelivery } from '../delivery/complete-delivery';
import { sendBundle, type TransportResult } from '../delivery/transport';
import type { Logger } from '../observability/logger';
import type { OutboundPolicy } from '../outbound/address-policy';
import type { Dispatcher } from 'undici';
import type { Metrics } from '../observability/metrics';
import type { Db, Queryable } from '../store/db';
import { FINAL_DELIVERY_STATUSES, loadDeliveryWork, recordDeliveryAttempt, type DeliveryWork } from '../store/messages';
import { isMedCom, stampSend } from '../mappers/medcom/messaging';
import { recordDeliveryAcknowledgement } from '../store/medcom-received';
import { DELIVERY_QUEUE, type DeliveryJobData } from './delivery-queue';

/**
 * Delivers one message Bundle to one recipient. The processor re-reads the delivery first and does nothing
 * when it is already final (a replayed or duplicated job is harmless). Transient failures (network, timeout,
 * 408, 429, 5xx, a transient-error acknowledgement) are rethrown so BullMQ retries with backoff; permanent
 * ones (other 4xx, fatal-error) end the job at once with UnrecoverableError; the last failed attempt turns
 * the delivery into a dead letter. Every final outcome writes an AuditEvent in the same transaction.
 */
export interface DeliveryDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  timeoutMs: number;
  /** Where deliveries may go, and the dispatcher that holds them to it (src/outbound). */
  outbound: OutboundPolicy;
  dispatcher: Dispatcher;
  /** Hook for checks that must pass right before a delivery (consent). Returns a reason to block, or undefined. */
  preDeliveryCheck?: (work: DeliveryWork) => Promise<string | undefined>;
  /** MedCom reliable messaging towards MedCom receivers (see processDelivery). */
  medcom?: { resendAfterMs: number; maxResends: number };
}

type Verdict = { status: 'delivered' } | { status: 'failed'; reason: string } | { status: 'retry'; reason: string };

export function verdictOf(result: TransportResult): Verdict {
  switch (result.kind) {
    case 'delivered':
      return { status: 'delivered' };
    case 'acknowledged':
      if (result.code === 'ok') {
        return { status: 'delivered' };
      }
      return {
        status: result.code === 'fatal-error' ? 'failed' : 'retry',
        reason: `recipient acknowledged with ${result.code}${result.errorCode ? ` (${result.errorCode})` : ''}${result.diagnostics ? `: ${result.diagnostics}` : ''}`,
      };
    case 'failed':
      return result.failure.retryable
        ? { status: 'retry', reason: result.failure.message }
        : { status: 'failed', reason: result.failure.message };
  }
}

/**
 * MedCom messages (MedCom reliable messaging) differ from the gateway's own: every send has a new Bundle.id and
 * the same MessageHeader.id; only an `ok` acknowledgement delivers (an empty 2xx means "sent, acknowledgement
 * pending"); without an acknowledgement the message is resent after `resendAfterMs`, at most `maxResends`
 * times, and then it is a dead letter with the reason. An acknowledgement posted later (POST /fhir/$process-message)
 * finishes the delivery, and the waiting resend finds it final and does nothing.
 */
export async function processDelivery(job: Job<DeliveryJobData>, deps: DeliveryDeps, token?: string): Promise<string> {
  const work = await loadDeliveryWork(deps.db, job.data.deliveryId);
  if (!work || FINAL_DELIVERY_STATUSES.includes(work.status)) {
    return 'moot';
  }
  const blocked = await deps.preDeliveryCheck?.(work);
  if (blocked) {
    await completeDelivery(deps, work, 'blocked', blocked, false);
    throw new UnrecoverableError(`blocked: ${blocked}`);
  }
  const medcom = isMedCom(work.bundle);
  const result = await sendBundle(
    { address: work.endpointAddress, connectionType: work.connectionType as ConnectionType },
    medcom ? stampSend(work.bundle, randomUUID(), new Date()) : work.bundle,
    { timeoutMs: deps.timeoutMs, outbound: deps.outbound, dispatcher: deps.dispatcher },
  );
  // The acknowledgement is written in the same transaction as the state it leads to (one commit, not two).
  const ack =
    result.kind === 'acknowledged'
      ? (tx: Queryable) => recordDeliveryAcknowledgement(tx, work.id, result.code, result.errorCode)
      : undefined;
  const verdict = verdictOf(result);
  const log = {
    deliveryId: work.id,
    messageId: work.messageId,
    kind: work.kind,
    attempt: job.attemptsMade + 1,
    ...(result.kind === 'failed' && result.failure.detail ? { detail: result.failure.detail } : {}),
  };
  if (medcom && verdict.status !== 'failed' && !(result.kind === 'acknowledged' && result.code === 'ok')) {
    const policy = deps.medcom ?? { resendAfterMs: 30 * 60 * 1000, maxResends: 2 };
    const sends = work.attempts + 1;
    const reason =
      verdict.status === 'retry' ? verdict.reason : 'sent; no acknowledgement yet (MedCom reliable messaging)';
    if (sends > policy.maxResends) {
      await completeDelivery(
        deps,
        work,
        'dead',
        `${reason} (no ok acknowledgement after ${sends} sends; MedCom allows ${policy.maxResends} resends)`,
        true,
        ack,
      );
      deps.logger.error({ ...log, reason }, 'MedCom delivery is a dead letter');
      throw new UnrecoverableError(reason);
    }
    await deps.db.transaction(async (tx) => {
      await ack?.(tx);
      await recordDeliveryAttempt(tx, work.id, { status: 'queued', error: reason, countsAsAttempt: true });
    });
    deps.metrics.deliveries.inc({ kind: work.kind, outcome: 'retry' });
    deps.logger.warn({ ...log, reason }, 'MedCom delivery awaits its acknowledgement; resend scheduled');
    await job.moveToDelayed(Date.now() + policy.resendAfterMs, token);
    throw new DelayedError();
  }
  switch (verdict.status) {
    case 'delivered':
      await completeDelivery(deps, work, 'delivered', null, true, ack);
      deps.metrics.deliveryLatency.observe({ kind: work.kind }, (Date.now() - work.acceptedAt.getTime()) / 1000);
      deps.logger.info(log, 'delivered');
      return 'delivered';
    case 'failed':
      await completeDelivery(deps, work, 'failed', verdict.reason, true, ack);
      deps.logger.warn({ ...log, reason: verdict.reason }, 'delivery failed permanently');
      throw new UnrecoverableError(verdict.reason);
    case 'retry': {
      const maxAttempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= maxAttempts) {
        await completeDelivery(
          deps,
          work,
          'dead',
          `${verdict.reason} (gave up after ${maxAttempts} attempts)`,
          true,
          ack,
        );
        deps.logger.error({ ...log, reason: verdict.reason }, 'delivery is a dead letter');
        throw new UnrecoverableError(verdict.reason);
      }
      await deps.db.transaction(async (tx) => {
        await ack?.(tx);
        await recordDeliveryAttempt(tx, work.id, { status: 'queued', error: verdict.reason, countsAsAttempt: true });
      });
      deps.metrics.deliveries.inc({ kind: work.kind, outcome: 'retry' });
      deps.logger.warn({ ...log, reason: verdict.reason }, 'delivery will be retried');
      throw new Error(verdict.reason);
    }
  }
}

export function createDeliveryWorker(
  deps: DeliveryDeps,
  connection: ConnectionOptions,
  options: { prefix: string; concurrency: number },
): Worker<DeliveryJobData> {
  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, (job, token) => processDelivery(job, deps, token), {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // The lock is renewed every lockDuration/2 while a job runs; a long lock keeps a busy event loop from
    // losing it (which would send the letter twice), at the price of a slower take-over after a crash.
    lockDuration: Math.max(30000, deps.timeoutMs * 2),
    // A crashed worker's jobs come back once their lock has expired and a stalled check has seen them twice.
    // BullMQ checks every 30 s by default, so take-over could take 90 s; every 10 s it takes at most ~50 s.
    stalledInterval: 10000,
    maxStalledCount: 3,
  });
  worker.on('error', (err) => {
    deps.logger.error({ err }, 'delivery worker error');
  });
  return worker;
}

/**
 * The delivery queue as a background component: the queue (the relay adds to it), and where workers run
 * (`deps` and `workerConnection` given) the worker that runs processDelivery.
 */
export function createDelivery(
  queue: Queue<DeliveryJobData>,
  worker: { deps: DeliveryDeps; connection: ConnectionOptions; concurrency: number } | undefined,
  prefix: string,
): QueueComponent<DeliveryJobData> {
  const running = worker
    ? createDeliveryWorker(worker.deps, worker.connection, { prefix, concurrency: worker.concurrency })
    : undefined;
  return {
    name: 'delivery',
    queue,
    worker: running,
    start() {
      // The worker takes jobs from creation; the relay starts feeding it.
    },
    async close() {
      // Worker.close waits for active jobs; a job cut short stays in Redis and runs again elsewhere.
      await running?.close();
      await queue.close();
    },
  };
}
