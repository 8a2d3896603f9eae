import type { Queue } from 'bullmq';
import type { Queryable } from '../store/db';
import type { MessageStatus } from '../store/messages';

/**
 * What the operator console shows, read from the database and the queues: traffic over the last hour in
 * 5-minute buckets (per message kind and per recipient), each endpoint's recent success rate and time to
 * deliver, the newest messages, queue depth and subscription health. Routing facts only: no message
 * content, and the patient's CPR number only masked (see maskCpr).
 */

/** The window the console looks back over, and its buckets. */
export const WINDOW_MINUTES = 60;
export const BUCKET_MINUTES = 5;
export const BUCKETS = WINDOW_MINUTES / BUCKET_MINUTES;

/** Counts per bucket for one series (a kind or a recipient); `counts[0]` is the oldest bucket, the last is now. */
export interface Series {
  key: string;
  label: string;
  counts: number[];
  total: number;
}

export interface RecipientFlow {
  sor: string;
  name: string | null;
  total: number;
  delivered: number;
  inFlight: number;
  failed: number;
  blocked: number;
  /** Deliveries created in the last 5 minutes. */
  lastFiveMinutes: number;
}

export interface EndpointHealth {
  /** The endpoint URL without user information, query or fragment. */
  endpoint: string;
  recipients: string[];
  /** Deliveries that reached delivered, failed or dead in the window (blocked ones never reached the endpoint). */
  finished: number;
  delivered: number;
  failed: number;
  /** delivered / finished, 0..1; null when nothing finished. */
  successRate: number | null;
  /** Accepted → delivered, milliseconds: median and 95th percentile over the window's deliveries. */
  medianMs: number | null;
  p95Ms: number | null;
  /** Mean attempts per finished delivery. */
  meanAttempts: number | null;
  inFlight: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface RecentMessage {
  id: string;
  kind: string;
  status: MessageStatus;
  createdAt: string;
  senderClientId: string;
  patientMasked: string | null;
  deliveries: number;
  delivered: number;
}

export interface QueueDepth {
  name: string;
  counts: Record<string, number>;
}

export interface SubscriptionHealth {
  byStatus: Record<string, number>;
  troubled: Array<{
    id: string;
    clientId: string;
    topic: string;
    endpoint: string;
    error: string | null;
    since: string;
  }>;
}

/**
 * A CPR number shown to operators: the birth date part and a mask ("010190-****"); the serial digits (which
 * identify the person and encode sex) are never shown. Anything that is not 10 digits is masked whole.
 */
export function maskCpr(cpr: string | null | undefined): string | null {
  if (!cpr) {
    return null;
  }
  return /^[0-9]{10}$/.test(cpr) ? `${cpr.slice(0, 6)}-****` : '**********';
}

/** An endpoint URL for display: scheme, host, port and path only (no credentials, query or fragment). */
export function displayEndpoint(address: string): string {
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

// The bucket a row falls into: 0 is the oldest 5 minutes of the hour, BUCKETS - 1 the latest.
const bucketOf = (column: string) =>
  `${BUCKETS - 1} - floor(extract(epoch from (now() - ${column})) / ${BUCKET_MINUTES * 60})::int`;
const IN_WINDOW = (column: string) => `${column} >= now() - interval '${WINDOW_MINUTES} minutes'`;

/** Messages accepted in the last hour, per kind and 5-minute bucket, biggest series first. */
export async function messagesByKind(db: Queryable): Promise<Series[]> {
  const rows = await db.query<{ kind: string; bucket: number | string; n: number | string }>(
    `SELECT m.kind, ${bucketOf('m.created_at')} AS bucket, count(*)::int AS n
       FROM messages m WHERE ${IN_WINDOW('m.created_at')} GROUP BY 1, 2`,
  );
  return toSeries(rows.map((r) => ({ key: r.kind, label: r.kind, bucket: Number(r.bucket), n: Number(r.n) })));
}

/** Deliveries created in the last hour, per recipient (SOR or other organisation id) and 5-minute bucket. */
export async function deliveriesByRecipient(db: Queryable): Promise<Series[]> {
  const rows = await db.query<{ sor: string; name: string | null; bucket: number | string; n: number | string }>(
    `SELECT d.recipient_value AS sor, max(d.recipient_name) AS name, ${bucketOf('d.created_at')} AS bucket, count(*)::int AS n
       FROM deliveries d WHERE ${IN_WINDOW('d.created_at')} GROUP BY 1, 3`,
  );
  return toSeries(
    rows.map((r) => ({
      key: r.sor,
      label: r.name ? `${r.name} (${r.sor})` : r.sor,
      bucket: Number(r.bucket),
      n: Number(r.n),
    })),
  );
}

function toSeries(rows: Array<{ key: string; label: string; bucket: number; n: number }>): Series[] {
  const byKey = new Map<string, Series>();
  for (const r of rows) {
    const series = byKey.get(r.key) ?? {
      key: r.key,
      label: r.label,
      counts: new Array<number>(BUCKETS).fill(0),
      total: 0,
    };
    // A row written in the same instant as now() may compute to one past the last bucket.
    const bucket = Math.min(BUCKETS - 1, Math.max(0, r.bucket));
    series.counts[bucket] = (series.counts[bucket] ?? 0) + r.n;
    series.total += r.n;
    byKey.set(r.key, series);
  }
  return [...byKey.values()].sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
}

/** Each recipient's deliveries created in the last hour, by where they stand now. */
export async function recipientFlows(db: Queryable): Promise<RecipientFlow[]> {
  const rows = await db.query<{
    sor: string;
    name: string | null;
    total: number | string;
    delivered: number | string;
    in_flight: number | string;
    failed: number | string;
    blocked: number | string;
    recent: number | string;
  }>(
    `SELECT d.recipient_value AS sor, max(d.recipient_name) AS name, count(*)::int AS total,
            count(*) FILTER (WHERE d.status = 'delivered')::int AS delivered,
            count(*) FILTER (WHERE d.status IN ('pending', 'queued'))::int AS in_flight,
            count(*) FILTER (WHERE d.status IN ('failed', 'dead'))::int AS failed,
            count(*) FILTER (WHERE d.status = 'blocked')::int AS blocked,
            count(*) FILTER (WHERE d.created_at >= now() - interval '${BUCKET_MINUTES} minutes')::int AS recent
       FROM deliveries d WHERE ${IN_WINDOW('d.created_at')}
      GROUP BY d.recipient_value ORDER BY total DESC, sor`,
  );
  return rows.map((r) => ({
    sor: r.sor,
    name: r.name,
    total: Number(r.total),
    delivered: Number(r.delivered),
    inFlight: Number(r.in_flight),
    failed: Number(r.failed),
    blocked: Number(r.blocked),
    lastFiveMinutes: Number(r.recent),
  }));
}

/**
 * Each endpoint's last hour: deliveries that finished there (delivered, failed or dead, by their last change),
 * the share delivered, the time from acceptance to delivery (median, p95; it includes queueing and retries,
 * which is what a recipient waits), mean attempts, what is in flight, and the newest error.
 */
export async function endpointHealth(db: Queryable): Promise<EndpointHealth[]> {
  const rows = await db.query<{
    endpoint: string;
    recipients: string[];
    finished: number | string;
    delivered: number | string;
    failed: number | string;
    median_ms: number | string | null;
    p95_ms: number | string | null;
    mean_attempts: number | string | null;
    in_flight: number | string;
    last_error: string | null;
    last_error_at: Date | string | null;
  }>(
    `SELECT d.endpoint_address AS endpoint,
            array_agg(DISTINCT d.recipient_value) AS recipients,
            count(*) FILTER (WHERE d.status IN ('delivered', 'failed', 'dead'))::int AS finished,
            count(*) FILTER (WHERE d.status = 'delivered')::int AS delivered,
            count(*) FILTER (WHERE d.status IN ('failed', 'dead'))::int AS failed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch from (d.delivered_at - d.created_at)) * 1000)
              FILTER (WHERE d.status = 'delivered') AS median_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch from (d.delivered_at - d.created_at)) * 1000)
              FILTER (WHERE d.status = 'delivered') AS p95_ms,
            avg(d.attempts) FILTER (WHERE d.status IN ('delivered', 'failed', 'dead'))::float8 AS mean_attempts,
            count(*) FILTER (WHERE d.status IN ('pending', 'queued'))::int AS in_flight,
            (array_agg(d.last_error ORDER BY d.last_attempt_at DESC NULLS LAST)
               FILTER (WHERE d.last_error IS NOT NULL AND d.status <> 'delivered'))[1] AS last_error,
            max(d.last_attempt_at) FILTER (WHERE d.last_error IS NOT NULL AND d.status <> 'delivered') AS last_error_at
       FROM deliveries d
      WHERE d.status <> 'blocked' AND (${IN_WINDOW('d.updated_at')} OR d.status IN ('pending', 'queued'))
      GROUP BY d.endpoint_address ORDER BY d.endpoint_address`,
  );
  return rows.map((r) => {
    const finished = Number(r.finished);
    const delivered = Number(r.delivered);
    return {
      endpoint: displayEndpoint(r.endpoint),
      recipients: (r.recipients ?? []).slice().sort(),
      finished,
      delivered,
      failed: Number(r.failed),
      successRate: finished > 0 ? delivered / finished : null,
      medianMs: r.median_ms === null ? null : Math.round(Number(r.median_ms)),
      p95Ms: r.p95_ms === null ? null : Math.round(Number(r.p95_ms)),
      meanAttempts: r.mean_attempts === null ? null : Number(r.mean_attempts),
      inFlight: Number(r.in_flight),
      lastError: r.last_error,
      lastErrorAt: r.last_error_at === null ? null : new Date(r.last_error_at).toISOString(),
    };
  });
}

/** The newest messages (optionally of one status), with their delivery counts; the CPR masked. */
export async function recentMessages(
  db: Queryable,
  q: { limit: number; status?: MessageStatus | undefined },
): Promise<RecentMessage[]> {
  const params: unknown[] = [];
  let where = '';
  if (q.status) {
    params.push(q.status);
    where = `WHERE m.status = $${params.length}`;
  }
  params.push(q.limit);
  const rows = await db.query<{
    id: string;
    kind: string;
    status: MessageStatus;
    created_at: Date | string;
    sender_client_id: string;
    patient_cpr: string | null;
    deliveries: number | string;
    delivered: number | string;
  }>(
    `SELECT m.id, m.kind, m.status, m.created_at, m.sender_client_id, m.patient_cpr,
            (SELECT count(*)::int FROM deliveries d WHERE d.message_id = m.id) AS deliveries,
            (SELECT count(*)::int FROM deliveries d WHERE d.message_id = m.id AND d.status = 'delivered') AS delivered
       FROM messages m ${where} ORDER BY m.created_at DESC, m.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
    senderClientId: r.sender_client_id,
    patientMasked: maskCpr(r.patient_cpr),
    deliveries: Number(r.deliveries),
    delivered: Number(r.delivered),
  }));
}

/** Jobs per state in each BullMQ queue; a queue that cannot be read (Redis down) is reported with no counts. */
export async function queueDepths(queues: readonly Queue[]): Promise<QueueDepth[]> {
  return await Promise.all(
    queues.map(async (queue) => ({
      name: queue.name,
      counts: await queue
        .getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed')
        .catch(() => ({})),
    })),
  );
}

/** Subscriptions per status, and those in `error` (or requested and never activated) with their error. */
export async function subscriptionHealth(db: Queryable): Promise<SubscriptionHealth> {
  const counts = await db.query<{ status: string; n: number | string }>(
    'SELECT status, count(*)::int AS n FROM subscriptions GROUP BY status ORDER BY status',
  );
  const troubled = await db.query<{
    id: string;
    client_id: string;
    topic: string;
    endpoint: string;
    error: string | null;
    updated_at: Date | string;
  }>(
    `SELECT id, client_id, topic, endpoint, error, updated_at FROM subscriptions
      WHERE status = 'error' ORDER BY updated_at DESC LIMIT 50`,
  );
  return {
    byStatus: Object.fromEntries(counts.map((r) => [r.status, Number(r.n)])),
    troubled: troubled.map((r) => ({
      id: r.id,
      clientId: r.client_id,
      topic: r.topic,
      endpoint: displayEndpoint(r.endpoint),
      error: r.error,
      since: new Date(r.updated_at).toISOString(),
    })),
  };
}

/** Dead letters waiting for an operator (dead or failed, not discarded), as GET /dead-letters lists them. */
export async function waitingDeadLetters(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number | string }>(
    "SELECT count(*)::int AS n FROM deliveries WHERE status IN ('dead', 'failed') AND discarded_at IS NULL",
  );
  return Number(rows[0]?.n ?? 0);
}

/** The message's patient, masked (maskCpr); null when it has none or does not exist. */
export async function maskedPatientOf(db: Queryable, messageId: string): Promise<string | null> {
  const rows = await db.query<{ patient_cpr: string | null }>('SELECT patient_cpr FROM messages WHERE id = $1', [
    messageId,
  ]);
  return maskCpr(rows[0]?.patient_cpr);
}
