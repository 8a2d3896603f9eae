import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/**
 * The notification queue: one job drains one subscription's unsent events, or sends its handshake or heartbeat.
 * Job data is only the subscription id and the kind of work (no patient data in Redis); the processor reads the
 * rest from the database (notification-processor.ts). Job ids derive from the subscription and the work, so the
 * poller queueing the same drain twice adds one job.
 */
export const NOTIFICATION_QUEUE = 'notifications';

export interface NotificationJobData {
  subscriptionId: string;
  type: 'drain' | 'handshake' | 'heartbeat';
}

/** Retries with exponential backoff from `backoffMs`; finished jobs are not kept (the database is the record). */
export interface NotificationRetry {
  attempts: number;
  backoffMs: number;
}

export function createNotificationQueue(connection: ConnectionOptions, prefix: string): Queue<NotificationJobData> {
  return new Queue<NotificationJobData>(NOTIFICATION_QUEUE, { connection, prefix });
}

export function notificationJobOptions(jobId: string, retry: NotificationRetry): JobsOptions {
  return {
    jobId,
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * Queues one piece of notification work. A drain or heartbeat has one job id per subscription (a second add
 * while one waits is ignored); a handshake gets a fresh one each time it is asked for.
 */
export async function enqueueNotification(
  queue: Queue<NotificationJobData>,
  data: NotificationJobData,
  retry: NotificationRetry,
  now = Date.now(),
): Promise<void> {
  const jobId =
    data.type === 'handshake' ? `handshake-${data.subscriptionId}-${now}` : `${data.type}-${data.subscriptionId}`;
  await queue.add(data.type, data, notificationJobOptions(jobId, retry));
}
