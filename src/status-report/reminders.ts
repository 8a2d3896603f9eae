import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../observability/logger';
import type { Db } from '../store/db';
import { scheduledReminders, type ReminderKind } from './task-store';

/**
 * Reminders as BullMQ delayed jobs, one per (Task, kind) with a job id derived from both, so scheduling
 * twice adds one job. The database (task_reminders) is the record: a reminder fires only if it is still
 * scheduled there, and `reconcile` (at start and then periodically) re-adds jobs for reminders Redis
 * lost, so they survive a restart and a flushed Redis. Job data holds only the Task id and kind.
 */
export const REMINDER_QUEUE = 'task-reminders';

export interface ReminderJobData {
  taskId: string;
  kind: ReminderKind;
}

export interface ReminderScheduler {
  schedule(taskId: string, kind: ReminderKind, dueAt: Date): Promise<void>;
  cancel(taskId: string, kinds: readonly ReminderKind[]): Promise<void>;
  reconcile(): Promise<number>;
  readonly queue: Queue<ReminderJobData>;
  close(): Promise<void>;
}

export function reminderJobId(taskId: string, kind: ReminderKind): string {
  return `reminder-${taskId}-${kind}`;
}

export function createReminderScheduler(
  db: Db,
  connection: ConnectionOptions,
  options: { prefix: string; logger: Logger; reconcileMs: number; fire?: ((job: ReminderJobData) => Promise<void>) | undefined; workerConnection?: ConnectionOptions | undefined },
): ReminderScheduler {
  const queue = new Queue<ReminderJobData>(REMINDER_QUEUE, { connection, prefix: options.prefix });
  const job = (taskId: string, kind: ReminderKind, dueAt: Date) => ({
    name: kind,
    data: { taskId, kind },
    opts: {
      jobId: reminderJobId(taskId, kind),
      delay: Math.max(0, dueAt.getTime() - Date.now()),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      // A failed reminder is unclaimed in the database, so the reconcile pass adds it again; a failed job
      // kept under the same id would swallow that re-add for as long as it is kept.
      removeOnFail: true,
    },
  });
  const add = async (taskId: string, kind: ReminderKind, dueAt: Date) => {
    const j = job(taskId, kind, dueAt);
    await queue.add(j.name, j.data, j.opts);
  };
  const worker =
    options.fire && options.workerConnection
      ? new Worker<ReminderJobData>(REMINDER_QUEUE, async (job) => options.fire?.(job.data), { connection: options.workerConnection, prefix: options.prefix, concurrency: 4 })
      : undefined;
  worker?.on('error', (err) => {
    options.logger.error({ err: { message: err.message } }, 'reminder worker error');
  });
  let timer: NodeJS.Timeout | undefined;
  const scheduler: ReminderScheduler = {
    queue,
    schedule: add,
    async cancel(taskId, kinds) {
      // The database already says "cancelled"; removing the jobs only saves them a trip.
      await Promise.all(kinds.map((k) => queue.remove(reminderJobId(taskId, k)).catch(() => 0)));
    },
    async reconcile() {
      const due = await scheduledReminders(db);
      // One round trip for all of them; a job that is already there keeps its id and is left alone.
      await queue.addBulk(due.map((r) => job(r.taskId, r.kind, r.dueAt)));
      return due.length;
    },
    async close() {
      if (timer) {
        clearInterval(timer);
      }
      await worker?.close();
      await queue.close();
    },
  };
  if (worker) {
    const run = () => {
      scheduler.reconcile().catch((e: unknown) => {
        options.logger.warn({ err: { message: (e as Error).message } }, 'reminder reconcile failed; will try again');
      });
    };
    run();
    timer = setInterval(run, options.reconcileMs);
    timer.unref();
  }
  return scheduler;
}
