import { readFileSync } from 'node:fs';
import type { Queue, Worker } from 'bullmq';
import type { OperationOutcome } from 'fhir/r4';
import type { Express } from 'express';
import { buildIntakeDeps, createApp, type AppDeps } from './app';
import { startMllpServer, type MllpServer } from './mllp/mllp-server';
import { createDisclosureGuard, type DisclosureGuard } from './consent/disclosure-guard';
import { consentPreDeliveryCheck } from './consent/pre-delivery-check';
import { DEMO_CLIENTS, loadClients, type ClientRegistry } from './auth/clients';
import type { Config } from './config';
import { importDirectoryBundle } from './directory/import-directory';
import { createFhirRegistry } from './directory/registry';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import type { BackgroundComponent } from './queue/component';
import { createRedisConnections } from './queue/connection';
import { createDeliveryQueue, type DeliveryJobData } from './queue/delivery-queue';
import { createDelivery } from './queue/delivery-worker';
import { OutboxRelay, type RelayOptions } from './queue/outbox-relay';
import type { Db } from './store/db';
import { openDb } from './store/open-db';
import { getDefaultValidator } from './validation';
import { loadStandardSets } from './status-report/question-sets';
import { createReminderScheduler, type ReminderScheduler } from './status-report/reminders';
import { createReminders } from './status-report/reminder-worker';
import { createLookupCache, type LookupCache } from './cache/lookup-cache';
import { createMeetingReminders } from './planning-meetings/meeting-reminders';
import { fireMeetingReminder, type MeetingDeps } from './planning-meetings/meeting-service';
import type { StatusReportDeps } from './status-report/status-report-service';
import { createNotifier, type Notifier } from './subscriptions/notifier';
import { outboundPolicy, type OutboundPolicy } from './outbound/address-policy';
import { createOutboundDispatcher, type HostResolver } from './outbound/outbound-dispatcher';

/**
 * Wires one gateway process: database, directory, clients, queue, relay, workers and the HTTP app.
 * server.ts adds a listening socket and signal handling; tests call this directly with their own pieces.
 */
export interface Gateway {
  readonly app: Express;
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly queue: Queue<DeliveryJobData>;
  readonly relay: OutboxRelay;
  readonly worker: Worker<DeliveryJobData> | undefined;
  readonly mllp: MllpServer | undefined;
  readonly reminders: ReminderScheduler;
  /** The background components in start order (closed in reverse). */
  readonly background: readonly BackgroundComponent[];
  readonly notifier: Notifier;
  readonly lookups: LookupCache;
  /** Stop taking new messages (503) while in-flight work finishes. */
  beginShutdown(): void;
  /** Finishes in-flight jobs, then closes queues, Redis and the database. */
  close(): Promise<void>;
}

export interface GatewayOverrides {
  db?: Db;
  logger?: Logger;
  metrics?: Metrics;
  clients?: ClientRegistry;
  relay?: Partial<RelayOptions>;
  guard?: DisclosureGuard;
  /** How outbound requests resolve host names (tests: a name that resolves to loopback). */
  outboundResolver?: HostResolver;
}

export async function startGateway(config: Config, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  // Progress lines, so a slow start can be told from a hang (each with how long it took).
  let phaseStart = Date.now();
  const phaseDone = (fields: Record<string, unknown>, msg: string) => {
    logger.info({ ...fields, ms: Date.now() - phaseStart }, msg);
    phaseStart = Date.now();
  };
  logger.info({ database: config.databaseUrl ? 'postgresql' : 'pglite' }, 'starting: opening the database');
  const clients = overrides.clients ?? loadClients(config.clientsFile, config.production);
  if (!overrides.clients && !config.clientsFile) {
    logger.warn(
      { clients: DEMO_CLIENTS.map((c) => c.id) },
      'DEMO API KEYS ARE ACTIVE, including an admin key: anyone who has read the README can use this gateway. ' +
        'Set GATEWAY_CLIENTS_FILE (and NODE_ENV=production) for anything but a demo.',
    );
  }
  const guard = overrides.guard ?? createDisclosureGuard();
  const db =
    overrides.db ??
    (await openDb(config, (applied) => {
      phaseDone({ applied }, 'database open, migrations applied');
    }));
  const validator = getDefaultValidator();
  phaseDone({ profiles: validator.profiles.length }, 'FHIR R4 definitions and profiles loaded');
  const outbound = outboundPolicy({ ...config.outbound, publicBaseUrl: config.publicBaseUrl, port: config.port });
  const dispatcher = createOutboundDispatcher(outbound, overrides.outboundResolver);
  if (config.outbound.allowPrivate) {
    logger.warn(
      { allowPrivateByDefault: config.outbound.allowPrivateByDefault },
      'OUTBOUND_ALLOW_PRIVATE is on: rest-hooks and endpoints may point at loopback and private addresses (for local demos and tests; set OUTBOUND_ALLOW_PRIVATE=false, or run with NODE_ENV=production, to refuse them)',
    );
  }
  if (config.directoryFile) {
    await loadDirectoryFile(db, config.directoryFile, logger, outbound);
    phaseStart = Date.now();
  }

  // Listening before anything is cached: a change made through another replica from here on is heard.
  const lookups = createLookupCache(db, logger, { maxEntries: config.lookupCacheEntries });
  await lookups.start();
  const redis = createRedisConnections(config.redisUrl, logger);
  const workers = config.runWorkers;
  const queue = createDeliveryQueue(redis.queue, config.queuePrefix);
  const retry = { attempts: config.delivery.attempts, backoffMs: config.delivery.backoffMs };
  const relay = new OutboxRelay(db, queue, logger, { retry, ...overrides.relay });
  const reminderScheduler = createReminderScheduler(db, redis.queue, config.queuePrefix);
  const statusReports: StatusReportDeps = {
    db,
    guard,
    validator,
    logger,
    sets: loadStandardSets(),
    reminders: reminderScheduler,
    remindBeforeMs: config.statusReports.remindBeforeMs,
    gatewayEndpoint: `${config.publicBaseUrl}/fhir`,
    onAccepted: () => {
      wakeAfterIntake();
    },
  };
  /**
   * After a commit that stored messages: the relay at once, and the notifier when subscription events were
   * recorded (unknown counts as some). Intake passes its count, so a letter nobody subscribed to costs the
   * notifier nothing; its poll timer catches anything else.
   */
  function wakeAfterIntake(subscriptionEvents?: number): void {
    relay.wake();
    if (subscriptionEvents !== 0) {
      notifier.wake();
    }
  }
  const delivery = createDelivery(
    queue,
    workers
      ? {
          deps: {
            db,
            logger,
            metrics,
            timeoutMs: config.delivery.timeoutMs,
            outbound,
            dispatcher,
            preDeliveryCheck: consentPreDeliveryCheck(db, guard, lookups),
            medcom: {
              resendAfterMs: config.delivery.medcomResendAfterMs,
              maxResends: config.delivery.medcomMaxResends,
            },
          },
          connection: redis.worker(),
          concurrency: config.delivery.concurrency,
        }
      : undefined,
    config.queuePrefix,
  );
  const reminders = createReminders(reminderScheduler, statusReports, workers ? redis.worker() : undefined, {
    prefix: config.queuePrefix,
    reconcileMs: config.statusReports.reminderReconcileMs,
  });
  const planningMeetings: MeetingDeps = {
    db,
    guard,
    logger,
    gatewayEndpoint: `${config.publicBaseUrl}/fhir`,
    onAccepted: () => {
      wakeAfterIntake();
    },
  };
  const meetingReminders = createMeetingReminders(db, redis.queue, {
    prefix: config.queuePrefix,
    logger,
    reconcileMs: config.statusReports.reminderReconcileMs,
    workerConnection: workers ? redis.worker() : undefined,
    fire: (meetingId, version) => fireMeetingReminder(planningMeetings, meetingId, version),
  });
  planningMeetings.reminders = meetingReminders;
  const notifier = createNotifier({ db, guard, logger }, redis.queue, workers ? redis.worker() : undefined, {
    prefix: config.queuePrefix,
    baseUrl: `${config.publicBaseUrl}/fhir`,
    ...config.subscriptions,
    outbound,
    dispatcher,
  });
  // Started in this order and closed in reverse: the relay stops feeding the delivery queue before it closes.
  const background: BackgroundComponent[] = workers
    ? [delivery, relay, reminders, meetingReminders, notifier]
    : [delivery, reminders, meetingReminders, notifier];
  for (const component of background) {
    component.start();
  }

  let shuttingDown = false;
  const appDeps: AppDeps = {
    config,
    logger,
    metrics,
    db,
    redis: redis.probe,
    clients,
    validator,
    guard,
    queues: [queue, reminders.queue, notifier.queue, meetingReminders.queue],
    planningMeetings,
    registry: config.registryFhirUrl
      ? createFhirRegistry(config.registryFhirUrl, { policy: outbound, dispatcher })
      : undefined,
    wakeRelay: () => {
      relay.wake();
    },
    onAccepted: wakeAfterIntake,
    isShuttingDown: () => shuttingDown,
    statusReports,
    notifier,
    outbound,
    lookups,
  };
  const app = createApp(appDeps);
  phaseDone({ runWorkers: config.runWorkers }, 'queues, workers and HTTP routes ready');
  const mllp =
    config.mllpPort === undefined
      ? undefined
      : await startMllpServer(buildIntakeDeps(appDeps), logger, {
          port: config.mllpPort,
          maxFrameBytes: config.maxBodyBytes,
          senders: config.mllpSenders.map((s) => {
            const client = clients.byId(s.clientId);
            if (!client) {
              throw new Error(`MLLP_SENDERS: ${s.application} is mapped to unknown client ${s.clientId}`);
            }
            return { application: s.application, facility: s.facility, client, charset: s.charset, sor: s.sor };
          }),
          defaultCharset: config.hl7DefaultCharset,
        });

  let closing: Promise<void> | undefined;
  return {
    app,
    db,
    logger,
    metrics,
    queue,
    relay,
    worker: delivery.worker,
    mllp,
    reminders: reminderScheduler,
    background,
    notifier,
    lookups,
    beginShutdown() {
      shuttingDown = true;
    },
    close() {
      shuttingDown = true;
      closing ??= (async () => {
        await mllp?.close();
        for (const component of [...background].reverse()) {
          await component.close();
        }
        await dispatcher.close().catch(() => undefined);
        await lookups.stop();
        await redis.quit();
        if (!overrides.db) {
          await db.close();
        }
      })();
      return closing;
    },
  };
}

async function loadDirectoryFile(db: Db, file: string, logger: Logger, outbound: OutboundPolicy): Promise<void> {
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`DIRECTORY_FILE: cannot read ${file}: ${(e as Error).message}`);
  }
  const result = await importDirectoryBundle(db, bundle, outbound);
  const failed = (result.entry ?? []).filter((e) => !/^2/.test(e.response?.status ?? ''));
  if (failed.length > 0) {
    throw new Error(
      `DIRECTORY_FILE: ${failed.length} entries of ${file} could not be loaded: ${failed.map((f) => (f.response?.outcome as OperationOutcome | undefined)?.issue[0]?.diagnostics ?? '').join('; ')}`,
    );
  }
  logger.info({ entries: result.entry?.length ?? 0 }, 'directory file loaded');
}
