import { randomUUID } from 'node:crypto';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Resource } from 'fhir/r4';
import type { Redis } from 'ioredis';
import { recordAudit } from '../audit/record-audit';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import type { PayloadContent } from '../mappers/subscription/backport';
import type { EventInput } from '../mappers/subscription/notification';
import { endpointProblem } from '../mappers/subscription/rest-hook-channel';
import { buildTask } from '../mappers/status-report/task';
import { CANONICAL_BASE, SYSTEM } from '../mappers/systems';
import type { Db } from '../store/db';
import { getTask } from '../status-report/task-store';
import { focusDocument } from './event-focus';
import { focusDisclosure } from './focus-disclosure';
import type { NotificationJobData } from './notification-queue';
import { sendRestHook, type RestHookOptions } from './rest-hook-sender';
import { hasEnded } from './subscription-end';
import {
  getSubscription,
  markNotified,
  setSubscriptionStatus,
  touchNotified,
  unsentEvents,
  type EventRow,
  type SubscriptionRow,
} from './subscription-store';
import { topicByUrl } from './topics';

/**
 * Processes one notification job: in order per subscription, one job drains a subscription's unsent events
 * oldest first, one notification per event, under a Redis lock so two workers never interleave; a failed send is
 * rethrown so BullMQ retries with backoff and nothing behind it overtakes it. After the last attempt the
 * subscription turns `error` (events keep being recorded for $events) until it is reactivated. A job checks the
 * subscription's end before every send.
 */
export interface NotificationDeps extends RestHookOptions {
  db: Db;
  guard: DisclosureGuard;
  /** Whether plain-http rest-hooks are taken (SUBSCRIPTION_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Holds the per-subscription lock (key under `prefix`); without it (a test) no lock is taken. */
  lock: { redis: Redis; prefix: string } | undefined;
  /** Called when a handshake turned a subscription active, so its first events go out at once. */
  onActivated?: () => void;
}

export async function processNotification(job: Job<NotificationJobData>, deps: NotificationDeps): Promise<void> {
  const lockKey = deps.lock && `${deps.lock.prefix}:subscription-lock:${job.data.subscriptionId}`;
  const token = randomUUID();
  const redis = deps.lock?.redis;
  if (redis && lockKey && (await redis.set(lockKey, token, 'PX', deps.timeoutMs * 3, 'NX')) !== 'OK') {
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
      await run(deps, subscription, job.data.type);
    } catch (e) {
      const reason = (e as Error).message;
      if (last) {
        await setSubscriptionStatus(
          deps.db,
          subscription.id,
          'error',
          `${reason} (gave up after ${job.attemptsMade + 1} attempts)`,
        );
        deps.logger.warn({ subscriptionId: subscription.id, reason }, 'subscription turned error');
        throw new UnrecoverableError(reason);
      }
      throw e;
    }
  } finally {
    if (redis && lockKey) {
      // Release only our own lock.
      await redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        lockKey,
        token,
      );
    }
  }
}

async function run(deps: NotificationDeps, s: SubscriptionRow, type: NotificationJobData['type']): Promise<void> {
  // Stored before the rule held, or under a setting since changed: not a rest-hook this gateway posts to.
  const refused = endpointProblem(s.endpoint, deps.allowHttp, deps.outbound);
  if (refused) {
    await setSubscriptionStatus(deps.db, s.id, 'error', refused);
    return;
  }
  if (type === 'handshake') {
    if (s.status !== 'requested') {
      return;
    }
    await sendRestHook(s, 'handshake', [], deps);
    await setSubscriptionStatus(deps.db, s.id, 'active');
    await touchNotified(deps.db, s.id);
    deps.onActivated?.();
    return;
  }
  if (s.status !== 'active') {
    return;
  }
  if (type === 'heartbeat') {
    if ((await unsentEvents(deps.db, s.id, 1)).length === 0) {
      await sendRestHook(s, 'heartbeat', [], deps);
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
      if (await refusedByConsent(deps, s, event)) {
        continue;
      }
      const input = await eventInput(deps, s, event);
      await sendRestHook(s, 'event-notification', [input], deps);
      await deps.db.transaction(async (tx) => {
        await markNotified(tx, s.id, event.eventNumber);
        await recordAudit(tx, {
          action: 'delivered',
          messageKind: 'subscription-notification',
          messageId: s.id,
          sender: GATEWAY_SENDER,
          recipient: { system: s.org.system, value: s.org.value },
          purpose: TREATMENT,
          patientCpr: event.patientCpr ?? undefined,
          dataClasses: [
            `${event.kind} (${input.resource ? 'full-resource' : s.content === 'empty' ? 'empty' : 'id-only'})`,
          ],
        });
      });
    }
  }
}

const GATEWAY_SENDER = {
  clientId: 'sektorbro',
  organization: { system: `${CANONICAL_BASE}/NamingSystem/gateway`, value: 'sektorbro' },
};
const TREATMENT = { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' };

/**
 * An event about a patient whose consent (now) denies the subscriber what the event is about is not sent, not
 * even id-only: it is marked handled and the block written to the patient's disclosure log. True when refused.
 */
async function refusedByConsent(deps: NotificationDeps, s: SubscriptionRow, e: EventRow): Promise<boolean> {
  if (!e.patientCpr) {
    return false;
  }
  const decision = await deps.guard.decide(deps.db, e.patientCpr, focusDisclosure(topicByUrl(s.topic), e.kind, s.org));
  if (decision.permit) {
    return false;
  }
  await deps.db.transaction(async (tx) => {
    await markNotified(tx, s.id, e.eventNumber);
    await recordAudit(tx, {
      action: 'blocked',
      messageKind: 'subscription-notification',
      messageId: s.id,
      sender: GATEWAY_SENDER,
      recipient: { system: s.org.system, value: s.org.value },
      purpose: TREATMENT,
      patientCpr: e.patientCpr ?? undefined,
      consent: decision.consent,
      dataClasses: [e.kind],
      reason: `event ${e.eventNumber} of Subscription/${s.id} not sent: ${decision.reason}`,
    });
  });
  return true;
}

/**
 * The event's focus, with the resource itself only for full-resource subscriptions the patient's consent
 * allows, and only a resource the subscriber may read (event-focus.ts): its own delivery or its copy.
 */
export async function eventInput(
  deps: { db: Db; guard: DisclosureGuard; baseUrl: string },
  s: SubscriptionRow,
  e: EventRow,
  content: PayloadContent = s.content,
): Promise<EventInput> {
  const focusUrl = `${deps.baseUrl}/${e.focusType}/${e.focusId}`;
  const base = { eventNumber: e.eventNumber, timestamp: e.occurredAt, focusType: e.focusType, focusUrl };
  if (content !== 'full-resource' || !e.patientCpr) {
    return base;
  }
  const decision = await deps.guard.decide(deps.db, e.patientCpr, focusDisclosure(topicByUrl(s.topic), e.kind, s.org));
  if (!decision.permit) {
    return base;
  }
  const resource = await focusResource(deps.db, s, e);
  return resource ? { ...base, resource } : base;
}

async function focusResource(db: Db, s: SubscriptionRow, e: EventRow): Promise<Resource | undefined> {
  if (e.focusType === 'Task') {
    const task = await getTask(db, e.focusId);
    return task ? buildTask(task, new Date()) : undefined;
  }
  return (await focusDocument(db, s.org, e.focusId))?.bundle;
}
