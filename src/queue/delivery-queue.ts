import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/**
 * The delivery queue: one job per (message, recipient). Job data is only the delivery id, so no CPR number
 * or clinical text sits in Redis (BullMQ stores job data in clear text); the worker reads the rest from the
 * database. Job ids derive from the outbox entry, so relaying the same entry twice adds one job.
 */
export const DELIVERY_QUEUE = 'delivery';

export interface DeliveryJobData {
  deliveryId: string;
}

export function deliveryJobId(deliveryId: string, outboxCreatedAt: Date): string {
  // BullMQ job ids may not contain ':' and must not be all digits.
  return `delivery-${deliveryId}-${outboxCreatedAt.getTime()}`;
}

export function createDeliveryQueue(connection: ConnectionOptions, prefix: string): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection, prefix });
}

export function deliveryJobOptions(
  jobId: string,
  retry: { attempts: number; backoffMs: number },
  urgent = false,
): JobsOptions {
  return {
    jobId,
    // An urgent job (a symptom-report alert) goes to the head of the waiting list, ahead of every routine
    // delivery already waiting; routine jobs keep plain FIFO order and cost nothing extra.
    ...(urgent ? { lifo: true } : {}),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    // Bounded retention: completed jobs go quickly, failed ones stay a week for the dashboard.
    removeOnComplete: { age: 3600, count: 10000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 100000 },
  };
}

/** Adds one delivery job per outbox entry in one round trip; an entry relayed twice adds one job. */
export async function enqueueDeliveries(
  queue: Queue<DeliveryJobData>,
  entries: ReadonlyArray<{ deliveryId: string; outboxCreatedAt: Date; urgent: boolean }>,
  retry: { attempts: number; backoffMs: number },
): Promise<void> {
  await queue.addBulk(
    entries.map((e) => ({
      name: 'deliver',
      data: { deliveryId: e.deliveryId },
      opts: deliveryJobOptions(deliveryJobId(e.deliveryId, e.outboxCreatedAt), retry, e.urgent),
    })),
  );
}
