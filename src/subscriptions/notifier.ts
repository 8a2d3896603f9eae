import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Resource } from 'fhir/r4';
import type { Redis } from 'ioredis';
import { recordAudit } from '../audit/record-audit';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import type { MappingContext } from '../mappers/context';
import type { NotificationType, PayloadContent } from '../mappers/subscription/backport';
import { notificationBundle, type EventInput } from '../mappers/subscription/notification';
import { endpointProblem, headerName, RESERVED_HEADERS } from '../mappers/subscription/rest-hook-channel';
import { buildTask } from '../mappers/status-report/task';
import { CANONICAL_BASE, SYSTEM } from '../mappers/systems';
import type { Logger } from '../observability/logger';
import type { Db } from '../store/db';
import { getTask } from '../status-report/task-store';
import { focusDocument } from './event-focus';
import { focusDisclosure } from './focus-disclosure';
import { hasEnded, turnOffEnded } from './subscription-end';
import { getSubscription, markNotified, pendingWork, setSubscriptionStatus, touchNotified, unsentEvents, type EventRow, type SubscriptionRow } from './subscription-store';
import { topicByUrl } from './topics';

/**
 * Delivers subscription notifications through a BullMQ queue, in order per subscription: one job drains a
 * subscription's unsent events oldest first, one notification per event, under a Redis lock so two workers
 * never interleave; a failed send is retried with backoff and nothing behind it overtakes it. After the last
 * attempt the subscription turns `error` (events keep being recorded for $events) until it is reactivated.
 * A poller finds work the database holds (new events, due heartbeats) and queues it, like the outbox relay,
 * and turns subscriptions whose end has passed off; a job checks the end again before every send.
 */
export const NOTIFICATION_QUEUE = 'notifications';

export interface NotifierJob {
  subscriptionId: string;
  type: 'drain' | 'handshake' | 'heartbeat';
}

export interface NotifierOptions {
  prefix: string;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  pollMs: number;
  baseUrl: string;
  /** Whether plain-http rest-hooks are taken (SUBSCRIPTION_ALLOW_HTTP). */
  allowHttp: boolean;
}

export interface Notifier {
  readonly queue: Queue<NotifierJob>;
  /** Which rest-hooks it posts to: subscriptions are refused at creation by the same rule. */
  readonly allowHttp: boolean;
  /** The guard its full-resource payloads are decided by; GET /fhir/Bundle decides copies by the same one. */
  readonly guard: DisclosureGuard;
  handshake(subscriptionId: string): Promise<void>;
  /** An event as a notification carries it, with the resource where the content and consent allow. */
  eventInput(s: SubscriptionRow, e: EventRow, content?: PayloadContent): Promise<EventInput>;
  wake(): void;
  close(): Promise<void>;
}

export function createNotifier(
  deps: { db: Db; guard: DisclosureGuard; logger: Logger },
  connection: ConnectionOptions,
  workerConnection: Redis | undefined,
  options: NotifierOptions,
): Notifier {
  const queue = new Queue<NotifierJob>(NOTIFICATION_QUEUE, { connection, prefix: options.prefix });
  const jobOptions = (jobId: string) => ({
    jobId,
    attempts: options.attempts,
    backoff: { type: 'exponential' as const, delay: options.backoffMs },
    removeOnComplete: true,
    removeOnFail: true,
  });
  const enqueue = (job: NotifierJob, jobId: string) => queue.add(job.type, job, jobOptions(jobId));

  const worker = workerConnection
    ? new Worker<NotifierJob>(NOTIFICATION_QUEUE, (job) => process(job), { connection: workerConnection, prefix: options.prefix, concurrency: 16 })
    : undefined;
  worker?.on('error', (err) => {
    deps.logger.error({ err: { message: err.message } }, 'notification worker error');
  });

  async function process(job: Job<NotifierJob>): Promise<void> {
    const lockKey = `${options.prefix}:subscription-lock:${job.data.subscriptionId}`;
    const token = randomUUID();
    const redis = workerConnection;
    if (redis && (await redis.set(lockKey, token, 'PX', options.timeoutMs * 3, 'NX')) !== 'OK') {
      // Another worker is notifying this subscription; the poller queues this work again, in order.
      return;
    }
    try {
      const subscription = await getSubscription(deps.db, job.data.subscriptionId);
      if (!subscription || subscription.status === 'off') {
        return;
      }
      if (hasEnded(subscription.resource.end)) {
        await setSubscriptionStatus(deps.db, subscription.id, 'off');
        return;
      }
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        await run(subscription, job.data.type);
      } catch (e) {
        const reason = (e as Error).message;
        if (last) {
          await setSubscriptionStatus(deps.db, subscription.id, 'error', `${reason} (gave up after ${job.attemptsMade + 1} attempts)`);
          deps.logger.warn({ subscriptionId: subscription.id, reason }, 'subscription turned error');
          throw new UnrecoverableError(reason);
        }
        throw e;
      }
    } finally {
      if (redis) {
        // Release only our own lock.
        await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, lockKey, token);
      }
    }
  }

  async function run(s: SubscriptionRow, type: NotifierJob['type']): Promise<void> {
    // Stored before the rule held, or under a setting since changed: not a rest-hook this gateway posts to.
    const refused = endpointProblem(s.endpoint, options.allowHttp);
    if (refused) {
      await setSubscriptionStatus(deps.db, s.id, 'error', refused);
      return;
    }
    if (type === 'handshake') {
      if (s.status !== 'requested') {
        return;
      }
      await send(s, 'handshake', []);
      await setSubscriptionStatus(deps.db, s.id, 'active');
      await touchNotified(deps.db, s.id);
      wake();
      return;
    }
    if (s.status !== 'active') {
      return;
    }
    if (type === 'heartbeat') {
      if ((await unsentEvents(deps.db, s.id, 1)).length === 0) {
        await send(s, 'heartbeat', []);
        await touchNotified(deps.db, s.id);
      }
      return;
    }
    for (;;) {
      const events = await unsentEvents(deps.db, s.id, 50);
      if (events.length === 0) {
        return;
      }
      for (const event of events) {
        if (hasEnded(s.resource.end)) {
          await setSubscriptionStatus(deps.db, s.id, 'off');
          return;
        }
        const input = await eventInput(s, event);
        await send(s, 'event-notification', [input]);
        await deps.db.transaction(async (tx) => {
          await markNotified(tx, s.id, event.eventNumber);
          await recordAudit(tx, {
            action: 'delivered',
            messageKind: 'subscription-notification',
            messageId: s.id,
            sender: { clientId: 'sektorbro', organization: { system: `${CANONICAL_BASE}/NamingSystem/gateway`, value: 'sektorbro' } },
            recipient: { system: s.org.system, value: s.org.value },
            purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
            patientCpr: event.patientCpr ?? undefined,
            dataClasses: [`${event.kind} (${input.resource ? 'full-resource' : s.content === 'empty' ? 'empty' : 'id-only'})`],
          });
        });
      }
    }
  }

  /**
   * The event's focus, with the resource itself only for full-resource subscriptions the patient's consent
   * allows, and only a resource the subscriber may read (event-focus.ts): its own delivery or its copy.
   */
  async function eventInput(s: SubscriptionRow, e: EventRow, content: PayloadContent = s.content): Promise<EventInput> {
    const focusUrl = `${options.baseUrl}/${e.focusType}/${e.focusId}`;
    const base = { eventNumber: e.eventNumber, timestamp: e.occurredAt, focusType: e.focusType, focusUrl };
    if (content !== 'full-resource' || !e.patientCpr) {
      return base;
    }
    const decision = await deps.guard.decide(deps.db, e.patientCpr, focusDisclosure(topicByUrl(s.topic), e.kind, s.org));
    if (!decision.permit) {
      return base;
    }
    const resource = await focusResource(s, e);
    return resource ? { ...base, resource } : base;
  }

  async function focusResource(s: SubscriptionRow, e: EventRow): Promise<Resource | undefined> {
    if (e.focusType === 'Task') {
      const task = await getTask(deps.db, e.focusId);
      return task ? buildTask(task, new Date()) : undefined;
    }
    return (await focusDocument(deps.db, s.org, e.focusId))?.bundle;
  }

  async function send(s: SubscriptionRow, type: NotificationType, events: EventInput[]): Promise<void> {
    const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: options.baseUrl };
    const status = type === 'handshake' ? 'requested' : s.status;
    const bundle = notificationBundle(
      { subscriptionUrl: `${options.baseUrl}/Subscription/${s.id}`, topic: s.topic, status, type, eventsSinceStart: type === 'event-notification' ? (events.at(-1)?.eventNumber ?? s.eventsSinceStart) : s.eventsSinceStart },
      events,
      s.content,
      ctx,
    );
    const headers: Record<string, string> = {};
    for (const h of s.headers) {
      const name = headerName(h);
      // Refused at creation too; rows stored before that rule must not override what the gateway sets either.
      if (name !== '' && !RESERVED_HEADERS.includes(name.toLowerCase())) {
        headers[name] = h.slice(h.indexOf(':') + 1).trim();
      }
    }
    headers['Content-Type'] = 'application/fhir+json';
    let answer: Response;
    try {
      answer = await fetch(s.endpoint, { method: 'POST', headers, body: JSON.stringify(bundle), signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (e) {
      throw new Error(`rest-hook unreachable: ${(e as Error).message}`);
    }
    await answer.arrayBuffer().catch(() => undefined);
    if (!answer.ok) {
      throw new Error(`rest-hook answered ${answer.status}`);
    }
  }

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
          ...work.drain.map((id) => enqueue({ subscriptionId: id, type: 'drain' }, `drain-${id}`)),
          ...work.heartbeat.map((id) => enqueue({ subscriptionId: id, type: 'heartbeat' }, `heartbeat-${id}`)),
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
        deps.logger.warn({ err: { message: (e as Error).message } }, 'turning off ended subscriptions failed; will try again');
      })
      .finally(wake);
  };
  const timer = worker ? setInterval(tick, options.pollMs) : undefined;
  timer?.unref();

  return {
    queue,
    allowHttp: options.allowHttp,
    guard: deps.guard,
    async handshake(subscriptionId) {
      await enqueue({ subscriptionId, type: 'handshake' }, `handshake-${subscriptionId}-${Date.now()}`);
    },
    wake,
    eventInput,
    async close() {
      if (timer) {
        clearInterval(timer);
      }
      await worker?.close();
      await queue.close();
    },
  };
}
