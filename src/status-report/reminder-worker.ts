import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { reconcileTimer, type QueueComponent } from '../queue/component';
import { REMINDER_QUEUE, type ReminderJobData, type ReminderScheduler } from './reminders';
import { fireReminder, type StatusReportDeps } from './status-report-service';

/**
 * Fires one reminder (fireReminder: the physician's reminder or the overdue notice), if the database still
 * has it scheduled; a reminder already sent or cancelled is left alone there.
 */
export async function processReminder(job: Job<ReminderJobData>, deps: StatusReportDeps): Promise<void> {
  await fireReminder(deps, job.data.taskId, job.data.kind);
}

/**
 * The reminders as a background component: the scheduler's queue, and where workers run a worker and a
 * reconcile pass (at start, then every `reconcileMs`) that re-adds reminders Redis lost.
 */
export function createReminders(
  scheduler: ReminderScheduler,
  deps: StatusReportDeps,
  workerConnection: ConnectionOptions | undefined,
  options: { prefix: string; reconcileMs: number },
): QueueComponent<ReminderJobData> {
  const worker = workerConnection
    ? new Worker<ReminderJobData>(REMINDER_QUEUE, (job) => processReminder(job, deps), {
        connection: workerConnection,
        prefix: options.prefix,
        concurrency: 4,
      })
    : undefined;
  worker?.on('error', (err) => {
    deps.logger.error({ err: { message: err.message } }, 'reminder worker error');
  });
  const reconcile = reconcileTimer(
    () => scheduler.reconcile(),
    options.reconcileMs,
    (e) => {
      deps.logger.warn({ err: { message: e.message } }, 'reminder reconcile failed; will try again');
    },
  );
  return {
    name: 'reminders',
    queue: scheduler.queue,
    worker,
    start() {
      if (worker) {
        reconcile.start();
      }
    },
    async close() {
      reconcile.stop();
      await worker?.close();
      await scheduler.queue.close();
    },
  };
}
