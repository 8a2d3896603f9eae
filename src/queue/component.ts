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

/**
 * A reconcile pass that runs at once and then every `everyMs` (unref'd: it keeps no process alive) until stopped:
 * how a queue component re-adds what Redis lost from what the database holds. A failed pass is reported
 * and tried again at the next tick (onError says so); `start` twice runs one timer.
 */
export function reconcileTimer(
  pass: () => Promise<unknown>,
  everyMs: number,
  onError: (e: Error) => void,
): { start(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    pass().catch((e: unknown) => {
      onError(e instanceof Error ? e : new Error(String(e)));
    });
  };
  return {
    start() {
      if (timer) {
        return;
      }
      run();
      timer = setInterval(run, everyMs);
      timer.unref();
    },
    stop() {
      if (timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}
