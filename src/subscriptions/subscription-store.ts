import type { Subscription } from 'fhir/r4';
import type { PayloadContent, SubscriptionStatus } from '../mappers/subscription/backport';
import { json, type Queryable } from '../store/db';
import { isUuid } from '../store/uuid';

/** Subscriptions and their numbered events. */
export interface SubscriptionRow {
  id: string;
  clientId: string;
  org: { system: string; value: string };
  topic: string;
  patientCpr: string | null;
  endpoint: string;
  headers: string[];
  content: PayloadContent;
  heartbeatSeconds: number | null;
  status: SubscriptionStatus;
  eventsSinceStart: number;
  error: string | null;
  resource: Subscription;
}

interface Raw {
  id: string;
  client_id: string;
  org_system: string;
  org_value: string;
  topic: string;
  patient_cpr: string | null;
  endpoint: string;
  headers: string[];
  content: PayloadContent;
  heartbeat_seconds: number | null;
  status: SubscriptionStatus;
  events_since_start: string | number;
  error: string | null;
  resource: Subscription;
}

const row = (r: Raw): SubscriptionRow => ({
  id: r.id,
  clientId: r.client_id,
  org: { system: r.org_system, value: r.org_value },
  topic: r.topic,
  patientCpr: r.patient_cpr,
  endpoint: r.endpoint,
  headers: r.headers,
  content: r.content,
  heartbeatSeconds: r.heartbeat_seconds,
  status: r.status,
  eventsSinceStart: Number(r.events_since_start),
  error: r.error,
  resource: r.resource,
});

export async function saveSubscription(
  tx: Queryable,
  s: Omit<SubscriptionRow, 'eventsSinceStart' | 'error'>,
): Promise<void> {
  await tx.query(
    `INSERT INTO subscriptions (id, client_id, org_system, org_value, topic, patient_cpr, endpoint, headers, content, heartbeat_seconds, status, resource)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12::jsonb)
     ON CONFLICT (id) DO UPDATE SET topic = EXCLUDED.topic, patient_cpr = EXCLUDED.patient_cpr, endpoint = EXCLUDED.endpoint, headers = EXCLUDED.headers,
       content = EXCLUDED.content, heartbeat_seconds = EXCLUDED.heartbeat_seconds, status = EXCLUDED.status, resource = EXCLUDED.resource, error = NULL, updated_at = now()`,
    [
      s.id,
      s.clientId,
      s.org.system,
      s.org.value,
      s.topic,
      s.patientCpr,
      s.endpoint,
      json(s.headers),
      s.content,
      s.heartbeatSeconds,
      s.status,
      json(s.resource),
    ],
  );
}

export async function getSubscription(db: Queryable, id: string): Promise<SubscriptionRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const rows = await db.query<Raw>('SELECT * FROM subscriptions WHERE id = $1', [id]);
  return rows[0] ? row(rows[0]) : undefined;
}

export async function listSubscriptions(
  db: Queryable,
  org: { system: string; value: string } | undefined,
): Promise<SubscriptionRow[]> {
  const rows = org
    ? await db.query<Raw>('SELECT * FROM subscriptions WHERE org_system = $1 AND org_value = $2 ORDER BY created_at', [
        org.system,
        org.value,
      ])
    : await db.query<Raw>('SELECT * FROM subscriptions ORDER BY created_at');
  return rows.map(row);
}

export async function setSubscriptionStatus(
  db: Queryable,
  id: string,
  status: SubscriptionStatus,
  error: string | null = null,
): Promise<void> {
  await db.query('UPDATE subscriptions SET status = $2, error = $3, updated_at = now() WHERE id = $1', [
    id,
    status,
    error,
  ]);
}

export interface EventRow {
  eventNumber: number;
  occurredAt: string;
  kind: string;
  patientCpr: string | null;
  focusType: string;
  focusId: string;
}

interface RawEvent {
  event_number: string | number;
  occurred_at: Date | string;
  kind: string;
  patient_cpr: string | null;
  focus_type: string;
  focus_id: string;
}

const event = (r: RawEvent): EventRow => ({
  eventNumber: Number(r.event_number),
  occurredAt: new Date(r.occurred_at).toISOString(),
  kind: r.kind,
  patientCpr: r.patient_cpr,
  focusType: r.focus_type,
  focusId: r.focus_id,
});

export async function eventsBetween(
  db: Queryable,
  id: string,
  since: number,
  until: number,
  limit: number,
): Promise<EventRow[]> {
  const rows = await db.query<RawEvent>(
    'SELECT event_number, occurred_at, kind, patient_cpr, focus_type, focus_id FROM subscription_events WHERE subscription_id = $1 AND event_number BETWEEN $2 AND $3 ORDER BY event_number LIMIT $4',
    [id, since, until, limit],
  );
  return rows.map(event);
}

export async function unsentEvents(db: Queryable, id: string, limit: number): Promise<EventRow[]> {
  const rows = await db.query<RawEvent>(
    'SELECT event_number, occurred_at, kind, patient_cpr, focus_type, focus_id FROM subscription_events WHERE subscription_id = $1 AND notified_at IS NULL ORDER BY event_number LIMIT $2',
    [id, limit],
  );
  return rows.map(event);
}

export async function markNotified(tx: Queryable, id: string, eventNumber: number): Promise<void> {
  await tx.query(
    'UPDATE subscription_events SET notified_at = now() WHERE subscription_id = $1 AND event_number = $2',
    [id, eventNumber],
  );
  await tx.query('UPDATE subscriptions SET last_notified_at = now() WHERE id = $1', [id]);
}

export async function touchNotified(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE subscriptions SET last_notified_at = now() WHERE id = $1', [id]);
}

/** Active subscriptions with events not yet notified, and those whose heartbeat is due. */
export async function pendingWork(db: Queryable): Promise<{ drain: string[]; heartbeat: string[] }> {
  const drain = await db.query<{ id: string }>(
    "SELECT DISTINCT s.id FROM subscriptions s JOIN subscription_events e ON e.subscription_id = s.id WHERE s.status = 'active' AND e.notified_at IS NULL LIMIT 1000",
  );
  const heartbeat = await db.query<{ id: string }>(
    `SELECT id FROM subscriptions WHERE status = 'active' AND heartbeat_seconds IS NOT NULL
        AND COALESCE(last_notified_at, created_at) < now() - make_interval(secs => heartbeat_seconds) LIMIT 1000`,
  );
  return { drain: drain.map((r) => r.id), heartbeat: heartbeat.map((r) => r.id) };
}
