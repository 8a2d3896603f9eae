import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { ConnectionType } from '../directory/directory';
import { completeDelivery } from '../delivery/complete-delivery';
import { sendBundle, type TransportResult } from '../delivery/transport';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';
import { FINAL_DELIVERY_STATUSES, loadDeliveryWork, recordDeliveryAttempt, type DeliveryWork } from '../store/messages';
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
  /** Hook for checks that must pass right before a delivery (consent). Returns a reason to block, or undefined. */
  preDeliveryCheck?: (work: DeliveryWork) => Promise<string | undefined>;
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
        reason: `recipient acknowledged with ${result.code}${result.diagnostics ? `: ${result.diagnostics}` : ''}`,
      };
    case 'failed':
      return result.failure.retryable ? { status: 'retry', reason: result.failure.message } : { status: 'failed', reason: result.failure.message };
  }
}

export async function processDelivery(job: Job<DeliveryJobData>, deps: DeliveryDeps): Promise<string> {
  const work = await loadDeliveryWork(deps.db, job.data.deliveryId);
  if (!work || FINAL_DELIVERY_STATUSES.includes(work.status)) {
    return 'moot';
  }
  const blocked = await deps.preDeliveryCheck?.(work);
  if (blocked) {
    await completeDelivery(deps, work, 'blocked', blocked, false);
    throw new UnrecoverableError(`blocked: ${blocked}`);
  }
  const result = await sendBundle(
    { address: work.endpointAddress, connectionType: work.connectionType as ConnectionType },
    work.bundle,
    { timeoutMs: deps.timeoutMs },
  );
  const verdict = verdictOf(result);
  const log = { deliveryId: work.id, messageId: work.messageId, kind: work.kind, attempt: job.attemptsMade + 1 };
  switch (verdict.status) {
    case 'delivered':
      await completeDelivery(deps, work, 'delivered', null, true);
      deps.metrics.deliveryLatency.observe({ kind: work.kind }, (Date.now() - work.acceptedAt.getTime()) / 1000);
      deps.logger.info(log, 'delivered');
      return 'delivered';
    case 'failed':
      await completeDelivery(deps, work, 'failed', verdict.reason, true);
      deps.logger.warn({ ...log, reason: verdict.reason }, 'delivery failed permanently');
      throw new UnrecoverableError(verdict.reason);
    case 'retry': {
      const maxAttempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= maxAttempts) {
        await completeDelivery(deps, work, 'dead', `${verdict.reason} (gave up after ${maxAttempts} attempts)`, true);
        deps.logger.error({ ...log, reason: verdict.reason }, 'delivery is a dead letter');
        throw new UnrecoverableError(verdict.reason);
      }
      await deps.db.transaction((tx) => recordDeliveryAttempt(tx, work.id, { status: 'queued', error: verdict.reason, countsAsAttempt: true }));
      deps.metrics.deliveries.inc({ kind: work.kind, outcome: 'retry' });
      deps.logger.warn({ ...log, reason: verdict.reason }, 'delivery will be retried');
      throw new Error(verdict.reason);
    }
  }
}

export function createDeliveryWorker(deps: DeliveryDeps, connection: ConnectionOptions, options: { prefix: string; concurrency: number }): Worker<DeliveryJobData> {
  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, (job) => processDelivery(job, deps), {
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
