import type { Queue, Worker } from 'bullmq';

/**
 * What gateway.ts starts and stops: the outbox relay, the delivery queue, the status-report and the planning-meeting
 * reminders, and the notifier. They are started in list order and closed in reverse, so nothing closes while
 * something started after it still feeds it.
 */
export interface BackgroundComponent {
  readonly name: string;
  /** Timers and pollers; a no-op in a process that runs no workers. */
  start(): void;
  /** Stops taking work, waits for work in hand, then closes its queue. */
  close(): Promise<void>;
}

/** A component around one BullMQ queue: the queue every process adds to, the worker only where workers run. */
export interface QueueComponent<T> extends BackgroundComponent {
  readonly queue: Queue<T>;
  readonly worker: Worker<T> | undefined;
}
