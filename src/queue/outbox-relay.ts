import type { Queue } from 'bullmq';
import type { Logger } from '../observability/logger';
import type { Db } from '../store/db';
import type { BackgroundComponent } from './component';
import { deliveryJobId, enqueueDeliveries, type DeliveryJobData } from './delivery-queue';

/**
 * Moves outbox entries into BullMQ. Intake writes message + outbox in one transaction and wakes the relay,
 * so delivery starts at once; a poll catches wakes lost to a crash or made by another replica. A slower
 * reconcile pass re-adds jobs Redis has lost (e.g. Redis restarted empty): the outbox entry stays until the
 * delivery is final, so the database can always bring the work back.
 */
export interface RelayOptions {
  retry: { attempts: number; backoffMs: number };
  pollMs?: number;
  reconcileMs?: number;
  /** How long a relayed entry may lack its job before reconcile re-adds it. */
  reconcileAfterMs?: number;
  batchSize?: number;
}

export class OutboxRelay implements BackgroundComponent {
  readonly name = 'outbox relay';
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly queue: Queue<DeliveryJobData>,
    private readonly logger: Logger,
    private readonly options: RelayOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      this.wake();
    }, this.options.pollMs ?? 1000);
    this.reconcileTimer = setInterval(() => {
      this.reconcile().catch((err: unknown) => {
        this.logger.warn({ err }, 'outbox reconcile failed; will retry');
      });
    }, this.options.reconcileMs ?? 15000);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.reconcileTimer);
    await this.running;
  }

  /** The same as stop: the queue it feeds belongs to the delivery component. */
  close(): Promise<void> {
    return this.stop();
  }

  /** Ask for a relay pass soon; passes never overlap, and a wake during a pass runs one more. */
  wake(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'outbox relay pass failed; will retry');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (await this.relayOnce()) > 0) {
      // keep going while there is a backlog
    }
  }

  /** Relays one batch of unrelayed entries; returns how many. */
  async relayOnce(): Promise<number> {
    const limit = this.options.batchSize ?? 200;
    return this.db.transaction(async (tx) => {
      const lock = this.db.kind === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
      // Urgent entries first, so an alert is not stuck behind a backlog of routine entries.
      const rows = await tx.query<{ delivery_id: string; created_at: Date; urgent: boolean }>(
        `SELECT delivery_id, created_at, urgent FROM outbox WHERE relayed_at IS NULL ORDER BY urgent DESC, created_at LIMIT ${limit} ${lock}`,
      );
      if (rows.length === 0) {
        return 0;
      }
      await enqueueDeliveries(
        this.queue,
        rows.map((r) => ({ deliveryId: r.delivery_id, outboxCreatedAt: r.created_at, urgent: r.urgent })),
        this.options.retry,
      );
      const ids = rows.map((r) => r.delivery_id);
      // One statement: a pass is mostly round trips. Every part sees the tables as they were before the
      // statement, so "no delivery left pending" must leave out the ones this statement queues.
      await tx.query(
        `WITH o AS (UPDATE outbox SET relayed_at = now() WHERE delivery_id = ANY($1::uuid[])),
              d AS (UPDATE deliveries SET status = 'queued', updated_at = now() WHERE id = ANY($1::uuid[]) AND status = 'pending' RETURNING message_id)
         UPDATE messages m SET status = 'queued', updated_at = now()
          WHERE m.status = 'accepted'
            AND m.id IN (SELECT message_id FROM d)
            AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.message_id = m.id AND x.status = 'pending' AND x.id <> ALL($1::uuid[]))`,
        [ids],
      );
      return rows.length;
    });
  }

  /**
   * Hands relayed, unfinished deliveries whose job Redis no longer has back to the relay. Returns how many.
   * The entry gets a fresh created_at, so relayOnce adds it under a fresh job id: a half-deleted job (Redis
   * lost keys under a running worker) may leave a stub under the old id that would swallow the re-add.
   */
  async reconcile(): Promise<number> {
    const olderThan = new Date(Date.now() - (this.options.reconcileAfterMs ?? 30000));
    const rows = await this.db.query<{ delivery_id: string; created_at: Date }>(
      'SELECT delivery_id, created_at FROM outbox WHERE relayed_at IS NOT NULL AND relayed_at < $1 ORDER BY created_at LIMIT 1000',
      [olderThan.toISOString()],
    );
    const lost: string[] = [];
    for (const row of rows) {
      const job = await this.queue.getJob(deliveryJobId(row.delivery_id, row.created_at));
      const state = job ? await job.getState() : 'missing';
      // A finished job with an unfinished delivery means the worker died between Redis and the database.
      if (state === 'missing' || state === 'unknown' || state === 'completed' || state === 'failed') {
        if (job && state !== 'unknown') {
          await job.remove().catch(() => undefined);
        }
        lost.push(row.delivery_id);
      }
    }
    if (lost.length === 0) {
      return 0;
    }
    // Only entries still there: a delivery that finished meanwhile has no outbox entry any more.
    const handedBack = await this.db.query(
      'UPDATE outbox SET created_at = now(), relayed_at = NULL WHERE delivery_id = ANY($1::uuid[]) AND relayed_at IS NOT NULL RETURNING delivery_id',
      [lost],
    );
    if (handedBack.length > 0) {
      this.logger.warn(
        { readded: handedBack.length },
        'outbox reconcile handed delivery jobs missing from Redis back to the relay',
      );
      this.wake();
    }
    return handedBack.length;
  }
}
