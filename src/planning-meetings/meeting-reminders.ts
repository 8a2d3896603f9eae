import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '../observability/logger';
import { reconcileTimer, type QueueComponent } from '../queue/component';
import type { Db } from '../store/db';
import type { MeetingReminderScheduler } from './meeting-service';
import { pendingReminders } from './meeting-store';

/**
 * Planning-meeting reminders as BullMQ delayed jobs, one per (meeting, version): a change or cancellation
 * counts the version up, so an old job finds nothing to claim and a rebooked meeting gets a job of its own.
 * The database (planning_meetings.reminder_due_at / reminder_sent_at) is the record: a reminder fires once,
 * by a claim there, and `reconcile` (at start, then periodically) re-adds jobs Redis lost. Job data: ids only.
 */
export const MEETING_REMINDER_QUEUE = 'planning-meeting-reminders';

/** A reminder job: the meeting and the version of it the reminder was scheduled for. */
export interface MeetingReminderJob {
  meetingId: string;
  version: number;
}

/** Sends one meeting's reminder (`fire`: a claim in the database first, so a reminder goes out once). */
export async function processMeetingReminder(
  job: Job<MeetingReminderJob>,
  fire: (meetingId: string, version: number) => Promise<void>,
): Promise<void> {
  await fire(job.data.meetingId, job.data.version);
}

export function meetingReminderJobId(meetingId: string, version: number): string {
  return `meeting-reminder-${meetingId}-v${String(version)}`;
}

/**
 * The reminders as a background component like the others (queue/component.ts): the queue every process adds to
 * (schedule, cancel), and where workers run a worker and a reconcile pass (at start, then every `reconcileMs`).
 */
export interface MeetingReminders extends MeetingReminderScheduler, QueueComponent<MeetingReminderJob> {
  reconcile(): Promise<number>;
}

export function createMeetingReminders(
  db: Db,
  connection: ConnectionOptions,
  options: {
    prefix: string;
    logger: Logger;
    reconcileMs: number;
    fire?: ((meetingId: string, version: number) => Promise<void>) | undefined;
    workerConnection?: ConnectionOptions | undefined;
  },
): MeetingReminders {
  const queue = new Queue<MeetingReminderJob>(MEETING_REMINDER_QUEUE, { connection, prefix: options.prefix });
  const job = (meetingId: string, version: number, dueAt: Date) => ({
    name: 'reminder',
    data: { meetingId, version },
    opts: {
      jobId: meetingReminderJobId(meetingId, version),
      delay: Math.max(0, dueAt.getTime() - Date.now()),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      // An unclaimed reminder is re-added by reconcile; a kept failed job would swallow that re-add.
      removeOnFail: true,
    },
  });
  const fire = options.fire;
  const worker =
    fire && options.workerConnection
      ? new Worker<MeetingReminderJob>(MEETING_REMINDER_QUEUE, (j) => processMeetingReminder(j, fire), {
          connection: options.workerConnection,
          prefix: options.prefix,
          concurrency: 2,
        })
      : undefined;
  worker?.on('error', (err) => {
    options.logger.error({ err: { message: err.message } }, 'meeting reminder worker error');
  });
  const reconcile = reconcileTimer(
    () => reminders.reconcile(),
    options.reconcileMs,
    (e) => {
      options.logger.warn({ err: { message: e.message } }, 'meeting reminder reconcile failed');
    },
  );
  const reminders: MeetingReminders = {
    name: 'planning-meeting reminders',
    queue,
    worker,
    start() {
      if (worker) {
        reconcile.start();
      }
    },
    async schedule(meetingId, version, dueAt) {
      const j = job(meetingId, version, dueAt);
      await queue.add(j.name, j.data, j.opts);
    },
    async cancel(meetingId, version) {
      await queue.remove(meetingReminderJobId(meetingId, version)).catch(() => 0);
    },
    async reconcile() {
      const due = await pendingReminders(db);
      await queue.addBulk(due.map((r) => job(r.id, r.version, r.dueAt)));
      return due.length;
    },
    async close() {
      reconcile.stop();
      await worker?.close();
      await queue.close();
    },
  };
  return reminders;
}
