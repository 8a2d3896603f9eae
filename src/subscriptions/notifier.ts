import { Worker, type ConnectionOptions } from 'bullmq';
import type { QueueComponent } from '../queue/component';
import type { Redis } from 'ioredis';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import type { PayloadContent } from '../mappers/subscription/backport';
import type { EventInput } from '../mappers/subscription/notification';
import type { Logger } from '../observability/logger';
import type { OutboundPolicy } from '../outbound/address-policy';
import type { Dispatcher } from 'undici';
import type { Db } from '../store/db';
import {
  createNotificationQueue,
  enqueueNotification,
  NOTIFICATION_QUEUE,
  type NotificationJobData,
} from './notification-queue';
import { eventInput, processNotification, type NotificationDeps } from './notification-processor';
import { turnOffEnded } from './subscription-end';
import { pendingWork, type EventRow, type SubscriptionRow } from './subscription-store';

export { NOTIFICATION_QUEUE } from './notification-queue';
export { REST_HOOK_UNREACHABLE } from './rest-hook-sender';
/** The notification queue's job data (notification-queue.ts). */
export type NotifierJob = NotificationJobData;

/**
 * The notifier's wiring: the notification queue, its worker (processNotification), and a poller that finds
 * work the database holds (new events, due heartbeats) and queues it, like the outbox relay, and turns
 * subscriptions whose end has passed off. Sending is rest-hook-sender.ts; the rules are notification-processor.ts.
 */
export interface NotifierOptions {
  prefix: string;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  pollMs: number;
  baseUrl: string;
  /** Whether plain-http rest-hooks are taken (SUBSCRIPTION_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Where rest-hooks may point (OUTBOUND_ALLOW_PRIVATE, OUTBOUND_ALLOW). */
  outbound: OutboundPolicy;
  /** Connects only where `outbound` allows, after DNS resolution (src/outbound/outbound-dispatcher.ts). */
  dispatcher: Dispatcher;
}

/** The worker is undefined in a process that runs no workers (it only queues handshakes). */
export interface Notifier extends QueueComponent<NotificationJobData> {
  /** Which rest-hooks it posts to: subscriptions are refused at creation by the same rule. */
  readonly allowHttp: boolean;
  /** Where rest-hooks may point: subscriptions are refused at creation by the same policy. */
  readonly outbound: OutboundPolicy;
  /** The guard its full-resource payloads are decided by; GET /fhir/Bundle decides copies by the same one. */
  readonly guard: DisclosureGuard;
  handshake(subscriptionId: string): Promise<void>;
  /** An event as a notification carries it, with the resource where the content and consent allow. */
  eventInput(s: SubscriptionRow, e: EventRow, content?: PayloadContent): Promise<EventInput>;
  /** Queues the work the database holds now (only where the worker runs); start() polls on a timer. */
  wake(): void;
}

/**
 * `workerConnection` is the worker's own blocking connection (it also holds the per-subscription locks);
 * without it this process only queues work.
 */
export function createNotifier(
  deps: { db: Db; guard: DisclosureGuard; logger: Logger },
  connection: ConnectionOptions,
  workerConnection: Redis | undefined,
  options: NotifierOptions,
): Notifier {
  const queue = createNotificationQueue(connection, options.prefix);
  const retry = { attempts: options.attempts, backoffMs: options.backoffMs };
  const processorDeps: NotificationDeps = {
    ...deps,
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    allowHttp: options.allowHttp,
    outbound: options.outbound,
    dispatcher: options.dispatcher,
    lock: workerConnection && { redis: workerConnection, prefix: options.prefix },
    onActivated: () => {
      wake();
    },
  };
  const worker = workerConnection
    ? new Worker<NotificationJobData>(NOTIFICATION_QUEUE, (job) => processNotification(job, processorDeps), {
        connection: workerConnection,
        prefix: options.prefix,
        concurrency: 16,
      })
    : undefined;
  worker?.on('error', (err) => {
    deps.logger.error({ err: { message: err.message } }, 'notification worker error');
  });

  let polling = false;
  let again = false;
  async function poll(): Promise<void> {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    try {
      do {
        again = false;
        const work = await pendingWork(deps.db);
        await Promise.all([
          ...work.drain.map((id) => enqueueNotification(queue, { subscriptionId: id, type: 'drain' }, retry)),
          ...work.heartbeat.map((id) => enqueueNotification(queue, { subscriptionId: id, type: 'heartbeat' }, retry)),
        ]);
      } while (again);
    } catch (e) {
      deps.logger.warn({ err: { message: (e as Error).message } }, 'notification poll failed; will try again');
    } finally {
      polling = false;
    }
  }
  function wake(): void {
    if (worker) {
      void poll();
    }
  }
  // Ends pass with time, not with messages: they are checked on the timer, not on every wake.
  const tick = (): void => {
    turnOffEnded(deps.db)
      .catch((e: unknown) => {
        deps.logger.warn(
          { err: { message: (e as Error).message } },
          'turning off ended subscriptions failed; will try again',
        );
      })
      .finally(wake);
  };
  let timer: NodeJS.Timeout | undefined;

  return {
    name: 'notifier',
    queue,
    worker,
    allowHttp: options.allowHttp,
    outbound: options.outbound,
    guard: deps.guard,
    async handshake(subscriptionId) {
      await enqueueNotification(queue, { subscriptionId, type: 'handshake' }, retry);
    },
    wake,
    eventInput: (s, e, content) => eventInput(processorDeps, s, e, content),
    start() {
      if (worker && !timer) {
        timer = setInterval(tick, options.pollMs);
        timer.unref();
      }
    },
    async close() {
      if (timer) {
        clearInterval(timer);
      }
      await worker?.close();
      await queue.close();
    },
  };
}
