import { readFileSync } from 'node:fs';
import type { Queue, Worker } from 'bullmq';
import type { OperationOutcome } from 'fhir/r4';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { buildIntakeDeps, createApp, type AppDeps } from './app';
import { startMllpServer, type MllpServer } from './mllp/mllp-server';
import { createDisclosureGuard, type DisclosureGuard } from './consent/disclosure-guard';
import { consentPreDeliveryCheck } from './consent/pre-delivery-check';
import { loadClients, type ClientRegistry } from './auth/clients';
import type { Config } from './config';
import { importDirectoryBundle } from './directory/import-directory';
import { createFhirRegistry } from './directory/registry';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { createRedisConnection } from './queue/connection';
import { createDeliveryQueue, type DeliveryJobData } from './queue/delivery-queue';
import { createDeliveryWorker } from './queue/delivery-worker';
import { OutboxRelay, type RelayOptions } from './queue/outbox-relay';
import type { Db } from './store/db';
import { openDb } from './store/open-db';
import { getDefaultValidator } from './validation';
import { loadStandardSets } from './status-report/question-sets';
import { createReminderScheduler, type ReminderScheduler } from './status-report/reminders';
import { fireReminder, type StatusReportDeps } from './status-report/status-report-service';
import { createNotifier, type Notifier } from './subscriptions/notifier';

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
  readonly notifier: Notifier;
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
}

export async function startGateway(config: Config, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  const clients = overrides.clients ?? loadClients(config.clientsFile, config.production);
  const validator = getDefaultValidator();
  const guard = overrides.guard ?? createDisclosureGuard();
  const db = overrides.db ?? (await openDb(config));
  if (config.directoryFile) {
    await loadDirectoryFile(db, config.directoryFile, logger);
  }

  const queueConnection = createRedisConnection(config.redisUrl, 'worker');
  const probeConnection: Redis = createRedisConnection(config.redisUrl, 'probe');
  for (const connection of [queueConnection, probeConnection]) {
    connection.on('error', (err) => {
      logger.warn({ err: { message: err.message } }, 'redis connection error');
    });
  }
  const queue = createDeliveryQueue(queueConnection, config.queuePrefix);
  const retry = { attempts: config.delivery.attempts, backoffMs: config.delivery.backoffMs };
  const relay = new OutboxRelay(db, queue, logger, { retry, ...overrides.relay });
  // BullMQ does not close a connection it was given, so the gateway keeps each one to quit it itself.
  const workerConnection = config.runWorkers ? createRedisConnection(config.redisUrl, 'worker') : undefined;
  const worker = workerConnection
    ? createDeliveryWorker({ db, logger, metrics, timeoutMs: config.delivery.timeoutMs, preDeliveryCheck: consentPreDeliveryCheck(db, guard) }, workerConnection, {
        prefix: config.queuePrefix,
        concurrency: config.delivery.concurrency,
      })
    : undefined;
  if (config.runWorkers) {
    relay.start();
  }

  const statusReports: StatusReportDeps = {
    db,
    guard,
    validator,
    logger,
    sets: loadStandardSets(),
    reminders: undefined,
    remindBeforeMs: config.statusReports.remindBeforeMs,
    gatewayEndpoint: `${config.publicBaseUrl}/fhir`,
    onAccepted: () => {
      wakeAfterIntake();
    },
  };
  const reminderWorkerConnection = config.runWorkers ? createRedisConnection(config.redisUrl, 'worker') : undefined;
  const reminders = createReminderScheduler(db, queueConnection, {
    prefix: config.queuePrefix,
    logger,
    reconcileMs: config.statusReports.reminderReconcileMs,
    workerConnection: reminderWorkerConnection,
    fire: (job) => fireReminder(statusReports, job.taskId, job.kind),
  });
  statusReports.reminders = reminders;
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
  const notifierConnection = config.runWorkers ? createRedisConnection(config.redisUrl, 'worker') : undefined;
  const notifier = createNotifier({ db, guard, logger }, queueConnection, notifierConnection, { prefix: config.queuePrefix, baseUrl: `${config.publicBaseUrl}/fhir`, ...config.subscriptions });

  let shuttingDown = false;
  const appDeps: AppDeps = {
    config,
    logger,
    metrics,
    db,
    redis: probeConnection,
    clients,
    validator,
    guard,
    queues: [queue, reminders.queue, notifier.queue],
    registry: config.registryFhirUrl ? createFhirRegistry(config.registryFhirUrl) : undefined,
    wakeRelay: () => {
      relay.wake();
    },
    onAccepted: wakeAfterIntake,
    isShuttingDown: () => shuttingDown,
    statusReports,
    notifier,
  };
  const app = createApp(appDeps);
  const mllp = config.mllpPort === undefined ? undefined : await startMllpServer(buildIntakeDeps(appDeps), logger, {
    port: config.mllpPort,
    maxFrameBytes: config.maxBodyBytes,
    senders: config.mllpSenders.map((s) => {
      const client = clients.byId(s.clientId);
      if (!client) {
        throw new Error(`MLLP_SENDERS: ${s.application} is mapped to unknown client ${s.clientId}`);
      }
      return { application: s.application, facility: s.facility, client };
    }),
  });

  let closing: Promise<void> | undefined;
  return {
    app,
    db,
    logger,
    metrics,
    queue,
    relay,
    worker,
    mllp,
    reminders,
    notifier,
    beginShutdown() {
      shuttingDown = true;
    },
    close() {
      shuttingDown = true;
      closing ??= (async () => {
        await mllp?.close();
        await relay.stop();
        // Worker.close waits for active jobs; a job cut short stays in Redis and runs again elsewhere.
        await worker?.close();
        await reminders.close();
        await notifier.close();
        await queue.close();
        await Promise.all(
          [queueConnection, probeConnection, workerConnection, reminderWorkerConnection, notifierConnection].filter((c) => c !== undefined).map((c) => c.quit().catch(() => undefined)),
        );
        if (!overrides.db) {
          await db.close();
        }
      })();
      return closing;
    },
  };
}

async function loadDirectoryFile(db: Db, file: string, logger: Logger): Promise<void> {
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`DIRECTORY_FILE: cannot read ${file}: ${(e as Error).message}`);
  }
  const result = await importDirectoryBundle(db, bundle);
  const failed = (result.entry ?? []).filter((e) => !/^2/.test(e.response?.status ?? ''));
  if (failed.length > 0) {
    throw new Error(`DIRECTORY_FILE: ${failed.length} entries of ${file} could not be loaded: ${failed.map((f) => (f.response?.outcome as OperationOutcome | undefined)?.issue[0]?.diagnostics ?? '').join('; ')}`);
  }
  logger.info({ entries: result.entry?.length ?? 0 }, 'directory file loaded');
}
