import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
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

/** Schedules and cancels reminders; every process has one (the worker is reminder-worker.ts). */
export interface ReminderScheduler {
  schedule(taskId: string, kind: ReminderKind, dueAt: Date): Promise<void>;
  cancel(taskId: string, kinds: readonly ReminderKind[]): Promise<void>;
  /** Re-adds the jobs of every reminder still scheduled in the database; returns how many it looked at. */
  reconcile(): Promise<number>;
  readonly queue: Queue<ReminderJobData>;
}

export function reminderJobId(taskId: string, kind: ReminderKind): string {
  return `reminder-${taskId}-${kind}`;
}

export function reminderJobOptions(taskId: string, kind: ReminderKind, dueAt: Date): JobsOptions {
  return {
    jobId: reminderJobId(taskId, kind),
    delay: Math.max(0, dueAt.getTime() - Date.now()),
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 24 * 3600 },
    // A failed reminder is unclaimed in the database, so the reconcile pass adds it again; a failed job
    // kept under the same id would swallow that re-add for as long as it is kept.
    removeOnFail: true,
  };
}

/** Adds the delayed job of one reminder; scheduling the same (Task, kind) twice adds one job. */
export async function enqueueReminder(
  queue: Queue<ReminderJobData>,
  taskId: string,
  kind: ReminderKind,
  dueAt: Date,
): Promise<void> {
  await queue.add(kind, { taskId, kind }, reminderJobOptions(taskId, kind, dueAt));
}

export function createReminderScheduler(db: Db, connection: ConnectionOptions, prefix: string): ReminderScheduler {
  const queue = new Queue<ReminderJobData>(REMINDER_QUEUE, { connection, prefix });
  return {
    queue,
    schedule: (taskId, kind, dueAt) => enqueueReminder(queue, taskId, kind, dueAt),
    async cancel(taskId, kinds) {
      // The database already says "cancelled"; removing the jobs only saves them a trip.
      await Promise.all(kinds.map((k) => queue.remove(reminderJobId(taskId, k)).catch(() => 0)));
    },
    async reconcile() {
      const due = await scheduledReminders(db);
      // One round trip for all of them; a job that is already there keeps its id and is left alone.
      await queue.addBulk(
        due.map((r) => ({
          name: r.kind,
          data: { taskId: r.taskId, kind: r.kind },
          opts: reminderJobOptions(r.taskId, r.kind, r.dueAt),
        })),
      );
      return due.length;
    },
  };
}
