import type { AuditEvent } from 'fhir/r4';
import { organisationName } from '../directory/directory';
import type { Queryable } from '../store/db';
import type { DeliveryRow } from '../store/delivery-row';
import type { DeliveryStatus, MessageStatus } from '../store/messages';

/**
 * Every party's view of its own traffic: what an organisation's client sent, and what was addressed to an
 * organisation, with each delivery's timeline. Sent is per client (as GET /messages/{id} always was);
 * received is per organisation (the recipient of a delivery is an organisation: SOR, municipality code or
 * CVR), and a recipient sees only its own deliveries of a message, never the other recipients'.
 */
export type TrafficSide = 'sent' | 'received';

export interface Org {
  system: string;
  value: string;
}

/** Who is looking: an admin sees everything, anyone else only its own side. */
export type TrafficViewer = { kind: 'admin' } | { kind: 'party'; clientId: string; organization: Org };

export interface TrafficQuery {
  /** Required for a party; for an admin, unset lists every message. */
  side?: TrafficSide | undefined;
  status?: MessageStatus | undefined;
  kind?: string | undefined;
  patientCpr?: string | undefined;
  /** Created at or after this instant (ISO 8601). */
  since?: string | undefined;
  /** Created before this instant (ISO 8601). */
  until?: string | undefined;
  count: number;
  cursor?: TrafficCursor | undefined;
}

/** Position after the last item of a page: its creation time in microseconds since the epoch, and its id. */
export interface TrafficCursor {
  createdMicros: string;
  id: string;
}

export interface TimelineEntry {
  at: string;
  /** accepted | delivered | delivery-failed | dead-letter | blocked | replayed | discarded | read | … */
  event: string;
  detail?: string;
}

export interface TrafficDelivery {
  id: string;
  recipient: { system: string; value: string; name: string | null };
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  /** Where the recipient reads the exact Bundle it received (recipients and admins only). */
  bundle?: string;
  timeline: TimelineEntry[];
}

export interface TrafficItem {
  id: string;
  kind: string;
  status: MessageStatus;
  createdAt: string;
  updatedAt: string;
  sender: { clientId?: string; organization: Org; name: string | null };
  /** The patient's CPR number: both parties already hold it; left out of the operators' list. */
  patientCpr?: string;
  messageHeaderId: string;
  /** GET /messages/{id}: the message with the same deliveries and timelines. */
  tracking: string;
  deliveries: TrafficDelivery[];
}

export interface TrafficPage {
  side?: TrafficSide;
  items: TrafficItem[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

interface Row {
  id: string;
  kind: string;
  status: MessageStatus;
  created_at: Date;
  updated_at: Date;
  created_micros: string;
  sender_client_id: string;
  sender_org_system: string | null;
  sender_org_value: string | null;
  patient_cpr: string | null;
  message_header_id: string;
}

type TrafficDeliveryRow = Pick<
  DeliveryRow,
  | 'id'
  | 'message_id'
  | 'recipient_system'
  | 'recipient_value'
  | 'recipient_name'
  | 'status'
  | 'attempts'
  | 'last_error'
  | 'last_attempt_at'
  | 'delivered_at'
>;

const ROW_COLUMNS = `m.id, m.kind, m.status, m.created_at, m.updated_at,
  (extract(epoch from m.created_at) * 1000000)::bigint::text AS created_micros,
  m.sender_client_id, m.sender_org_system, m.sender_org_value, m.patient_cpr, m.message_header_id`;

/** A delivery's status in the vocabulary of a message's (a delivery not yet queued is "accepted"). */
function deliveryStatusFilter(status: MessageStatus): DeliveryStatus {
  return status === 'accepted' ? 'pending' : status;
}

/** One page of the viewer's traffic, newest first. */
export async function listTraffic(
  db: Queryable,
  viewer: TrafficViewer,
  q: TrafficQuery,
  baseUrl: string,
): Promise<TrafficPage> {
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  // Conditions on the message, and (received side) on a delivery of it addressed to the viewer.
  const onMessage: string[] = [];
  const onDelivery: string[] = [];
  const received = q.side === 'received';
  if (viewer.kind === 'party' && received) {
    onDelivery.push(`d.recipient_system = ${bind(viewer.organization.system)}`);
    onDelivery.push(`d.recipient_value = ${bind(viewer.organization.value)}`);
    // What consent blocked was never the recipient's: not even that it existed (see describe()).
    onDelivery.push(`d.status <> 'blocked'`);
  } else if (viewer.kind === 'party' || q.side === 'sent') {
    // An admin's own sending is none, but side=sent means the same for everyone.
    onMessage.push(`m.sender_client_id = ${bind(viewer.kind === 'party' ? viewer.clientId : '')}`);
  }
  if (q.status) {
    if (received) {
      onDelivery.push(`d.status = ${bind(deliveryStatusFilter(q.status))}`);
    } else {
      onMessage.push(`m.status = ${bind(q.status)}`);
    }
  }
  if (q.kind) {
    onMessage.push(`m.kind = ${bind(q.kind)}`);
  }
  if (q.patientCpr) {
    onMessage.push(`m.patient_cpr = ${bind(q.patientCpr)}`);
  }
  if (q.since) {
    onMessage.push(`m.created_at >= ${bind(q.since)}::timestamptz`);
  }
  if (q.until) {
    onMessage.push(`m.created_at < ${bind(q.until)}::timestamptz`);
  }
  if (q.cursor) {
    // Microseconds, not the JSON's milliseconds: two messages in one millisecond are neither skipped nor repeated.
    onMessage.push(
      `(m.created_at, m.id) < (timestamptz 'epoch' + ${bind(q.cursor.createdMicros)}::bigint * interval '1 microsecond', ${bind(q.cursor.id)}::uuid)`,
    );
  }
  if (received) {
    onMessage.push(
      `EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND ${onDelivery.join(' AND ') || 'true'})`,
    );
  }
  const rows = await db.query<Row>(
    `SELECT ${ROW_COLUMNS} FROM messages m WHERE ${onMessage.join(' AND ') || 'true'}
      ORDER BY m.created_at DESC, m.id DESC LIMIT ${bind(q.count + 1)}`,
    params,
  );
  const page = rows.slice(0, q.count);
  const items = await describe(db, viewer, page, received, baseUrl);
  const last = page[page.length - 1];
  const side = q.side ? { side: q.side } : {};
  return rows.length > q.count && last
    ? { ...side, items, next: encodeCursor({ createdMicros: last.created_micros, id: last.id }) }
    : { ...side, items };
}

/**
 * One message as the viewer may see it: its sender, or an organisation it was addressed to (only that
 * organisation's deliveries), or an admin. Undefined for anyone else, so a guessed id learns nothing.
 */
export async function trafficItem(
  db: Queryable,
  viewer: TrafficViewer,
  id: string,
  baseUrl: string,
): Promise<TrafficItem | undefined> {
  const rows = await db.query<Row>(`SELECT ${ROW_COLUMNS} FROM messages m WHERE m.id = $1`, [id]);
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  if (viewer.kind === 'admin' || row.sender_client_id === viewer.clientId) {
    return (await describe(db, viewer, [row], false, baseUrl))[0];
  }
  const item = (await describe(db, viewer, [row], true, baseUrl))[0];
  return item && item.deliveries.length > 0 ? item : undefined;
}

async function describe(
  db: Queryable,
  viewer: TrafficViewer,
  rows: Row[],
  received: boolean,
  baseUrl: string,
): Promise<TrafficItem[]> {
  if (rows.length === 0) {
    return [];
  }
  const ids = rows.map((r) => r.id);
  const deliveryParams: unknown[] = [ids];
  let own = '';
  if (received && viewer.kind === 'party') {
    deliveryParams.push(viewer.organization.system, viewer.organization.value);
    // A blocked delivery tells its recipient what the patient refused it (sender, patient, kind): left out.
    own = "AND recipient_system = $2 AND recipient_value = $3 AND status <> 'blocked'";
  }
  const deliveries = await db.query<TrafficDeliveryRow>(
    `SELECT id, message_id, recipient_system, recipient_value, recipient_name, status, attempts, last_error, last_attempt_at, delivered_at
       FROM deliveries WHERE message_id = ANY($1::uuid[]) ${own} ORDER BY created_at, id`,
    deliveryParams,
  );
  const audits = await db.query<{ message_id: string; recorded: Date; action: string; resource: AuditEvent }>(
    'SELECT message_id, recorded, action, resource FROM audit_events WHERE message_id = ANY($1::uuid[]) ORDER BY recorded, id',
    [ids],
  );
  const names = await organisationNames(db, [
    ...rows.flatMap((r) =>
      r.sender_org_system && r.sender_org_value ? [{ system: r.sender_org_system, value: r.sender_org_value }] : [],
    ),
  ]);
  const showBundle = viewer.kind === 'admin' || received;
  return rows.map((r) => {
    const senderOrg = { system: r.sender_org_system ?? '', value: r.sender_org_value ?? '' };
    const mine = deliveries.filter((d) => d.message_id === r.id);
    return {
      id: r.id,
      kind: r.kind,
      status: mine.length > 0 && received ? messageStatusOf(mine) : r.status,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      sender: {
        // The sending client is the sender's own business; a recipient sees the organisation.
        ...(received && viewer.kind === 'party' ? {} : { clientId: r.sender_client_id }),
        organization: senderOrg,
        name: names.get(orgKey(senderOrg)) ?? null,
      },
      ...(viewer.kind === 'party' && r.patient_cpr ? { patientCpr: r.patient_cpr } : {}),
      messageHeaderId: r.message_header_id,
      tracking: `/messages/${r.id}`,
      deliveries: mine.map((d) => ({
        id: d.id,
        recipient: { system: d.recipient_system, value: d.recipient_value, name: d.recipient_name },
        status: d.status,
        attempts: d.attempts,
        lastAttemptAt: d.last_attempt_at ? iso(d.last_attempt_at) : null,
        deliveredAt: d.delivered_at ? iso(d.delivered_at) : null,
        lastError: d.last_error,
        ...(showBundle ? { bundle: `${baseUrl}/Bundle/${d.id}` } : {}),
        timeline: timeline(
          r,
          d,
          audits.filter((a) => a.message_id === r.id),
        ),
      })),
    };
  });
}

/** A recipient's view of the message status: its own deliveries only. */
function messageStatusOf(deliveries: TrafficDeliveryRow[]): MessageStatus {
  const statuses = deliveries.map((d) => d.status);
  for (const bad of ['blocked', 'dead', 'failed'] as const) {
    if (statuses.includes(bad)) {
      return bad;
    }
  }
  if (statuses.every((s) => s === 'delivered')) {
    return 'delivered';
  }
  return statuses.includes('pending') ? 'accepted' : 'queued';
}

/**
 * accepted, then what the disclosure log recorded for this delivery's recipient (final outcomes, operators'
 * replays and discards, the recipient's reads of the Bundle), oldest first. Retries in between show as
 * `attempts`, `lastAttemptAt` and `lastError` on the delivery.
 */
function timeline(
  message: Row,
  delivery: TrafficDeliveryRow,
  audits: Array<{ recorded: Date; action: string; resource: AuditEvent }>,
): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: iso(message.created_at), event: 'accepted' }];
  for (const a of audits) {
    const recipient = a.resource.agent.find((g) => !g.requestor && g.type?.coding?.some((c) => c.code === 'IRCP'))?.who
      ?.identifier;
    if (recipient?.system !== delivery.recipient_system || recipient.value !== delivery.recipient_value) {
      continue;
    }
    entries.push({
      at: iso(a.recorded),
      event: a.action,
      ...(a.resource.outcomeDesc ? { detail: a.resource.outcomeDesc } : {}),
    });
  }
  return entries;
}

async function organisationNames(db: Queryable, orgs: Org[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const org of new Map(orgs.map((o) => [orgKey(o), o])).values()) {
    const name = await organisationName(db, org);
    if (name) {
      names.set(orgKey(org), name);
    }
  }
  return names;
}

function orgKey(o: Org): string {
  return `${o.system}|${o.value}`;
}

export function encodeCursor(c: TrafficCursor): string {
  return Buffer.from(`${c.createdMicros}.${c.id}`, 'utf8').toString('base64url');
}

/** The cursor of a page, or undefined when it is not one this gateway wrote. */
export function decodeCursor(text: string): TrafficCursor | undefined {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const m = /^([0-9]{1,19})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(decoded);
  return m?.[1] && m[2] ? { createdMicros: m[1], id: m[2] } : undefined;
}

function iso(d: Date | string): string {
  return d instanceof Date ? d.toISOString() : new Date(d).toISOString();
}
