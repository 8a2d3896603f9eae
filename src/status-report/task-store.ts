import { randomUUID } from 'node:crypto';
import type { Questionnaire, QuestionnaireResponse } from 'fhir/r4';
import { FINAL_TASK_STATUSES, type TaskRecord, type TaskStatus } from '../mappers/status-report/task';
import { json, type Queryable } from '../store/db';

/** Status-report Tasks, their history (task_events) and their reminders (task_reminders). */
interface TaskRow {
  id: string;
  status: TaskStatus;
  status_reason: string | null;
  part_of: string | null;
  patient_cpr: string;
  question_set: string;
  purpose: string;
  reason: string;
  questionnaire: Questionnaire;
  requester_client_id: string;
  requester_system: string;
  requester_value: string;
  requester_name: string | null;
  caseworker: TaskRecord['caseworker'];
  owner_system: string;
  owner_value: string;
  owner_name: string | null;
  due_at: Date | string;
  response: QuestionnaireResponse | null;
  answered_at: Date | string | null;
  answered_late: boolean | null;
  overdue_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const date = (d: Date | string): Date => (d instanceof Date ? d : new Date(d));

function record(r: TaskRow): TaskRecord {
  return {
    id: r.id,
    status: r.status,
    statusReason: r.status_reason,
    partOf: r.part_of,
    patientCpr: r.patient_cpr,
    questionSet: r.question_set,
    purpose: r.purpose,
    reason: r.reason,
    questionnaire: r.questionnaire,
    requester: {
      clientId: r.requester_client_id,
      system: r.requester_system,
      value: r.requester_value,
      name: r.requester_name,
    },
    caseworker: r.caseworker,
    owner: { system: r.owner_system, value: r.owner_value, name: r.owner_name },
    dueAt: date(r.due_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    answeredAt: r.answered_at ? date(r.answered_at) : null,
    answeredLate: r.answered_late,
    overdueAt: r.overdue_at ? date(r.overdue_at) : null,
    response: r.response,
  };
}

export async function insertTask(
  tx: Queryable,
  t: TaskRecord,
  meta: { idempotencyKey: string | undefined; requestHash: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO tasks (id, status, part_of, patient_cpr, question_set, purpose, reason, questionnaire, requester_client_id, requester_system,
       requester_value, requester_name, caseworker, owner_system, owner_value, owner_name, due_at, idempotency_key, request_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17, $18, $19, $20, $20)`,
    [
      t.id,
      t.status,
      t.partOf,
      t.patientCpr,
      t.questionSet,
      t.purpose,
      t.reason,
      json(t.questionnaire),
      t.requester.clientId,
      t.requester.system,
      t.requester.value,
      t.requester.name,
      t.caseworker ? json(t.caseworker) : null,
      t.owner.system,
      t.owner.value,
      t.owner.name,
      t.dueAt,
      meta.idempotencyKey ?? null,
      meta.requestHash,
      t.createdAt,
    ],
  );
}

export async function getTask(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<TaskRecord | undefined> {
  const rows = await db.query<TaskRow>(`SELECT * FROM tasks WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
  return rows[0] ? record(rows[0]) : undefined;
}

export async function findTaskByIdempotencyKey(
  db: Queryable,
  clientId: string,
  key: string,
): Promise<{ task: TaskRecord; requestHash: string } | undefined> {
  const rows = await db.query<TaskRow & { request_hash: string }>(
    'SELECT * FROM tasks WHERE requester_client_id = $1 AND idempotency_key = $2',
    [clientId, key],
  );
  return rows[0] ? { task: record(rows[0]), requestHash: rows[0].request_hash } : undefined;
}

/** Moves a Task on and records the transition; returns the updated Task. */
export async function updateTask(
  tx: Queryable,
  id: string,
  change: { status: TaskStatus; reason?: string | null; response?: QuestionnaireResponse; answeredLate?: boolean },
  event: { event: string; actor: string; note?: string | undefined },
): Promise<TaskRecord> {
  const rows = await tx.query<TaskRow>(
    `UPDATE tasks SET status = $2, status_reason = COALESCE($3, status_reason), response = COALESCE($4::jsonb, response),
        answered_at = CASE WHEN $4::jsonb IS NULL THEN answered_at ELSE now() END, answered_late = COALESCE($5, answered_late), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [
      id,
      change.status,
      change.reason ?? null,
      change.response ? json(change.response) : null,
      change.answeredLate ?? null,
    ],
  );
  const row = rows[0];
  if (!row) {
    throw new Error(`task ${id} vanished`);
  }
  await addTaskEvent(tx, id, { ...event, status: change.status });
  return record(row);
}

export async function markOverdue(tx: Queryable, id: string): Promise<TaskRecord | undefined> {
  const rows = await tx.query<TaskRow>(
    `UPDATE tasks SET overdue_at = now(), updated_at = now() WHERE id = $1 AND overdue_at IS NULL AND status <> ALL($2::text[]) RETURNING *`,
    [id, FINAL_TASK_STATUSES],
  );
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  await addTaskEvent(tx, id, {
    event: 'overdue',
    status: row.status,
    actor: 'sektorbro',
    note: 'the deadline passed without an answer',
  });
  return record(row);
}

export async function addTaskEvent(
  tx: Queryable,
  taskId: string,
  e: { event: string; status: string; actor: string; note?: string | undefined },
): Promise<void> {
  await tx.query('INSERT INTO task_events (id, task_id, event, status, actor, note) VALUES ($1, $2, $3, $4, $5, $6)', [
    randomUUID(),
    taskId,
    e.event,
    e.status,
    e.actor,
    e.note ?? null,
  ]);
}

export interface TaskEvent {
  at: string;
  event: string;
  status: string;
  actor: string;
  note: string | null;
}

export async function taskEvents(db: Queryable, taskId: string): Promise<TaskEvent[]> {
  const rows = await db.query<{ at: Date | string; event: string; status: string; actor: string; note: string | null }>(
    'SELECT at, event, status, actor, note FROM task_events WHERE task_id = $1 ORDER BY at, id',
    [taskId],
  );
  return rows.map((r) => ({ ...r, at: date(r.at).toISOString() }));
}

export interface TaskQuery {
  /** Whose work list: the organisation as requester, as owner (addressee), or either. */
  organization?: { system: string; value: string } | undefined;
  side?: 'requester' | 'owner' | undefined;
  statuses?: TaskStatus[] | undefined;
  overdue?: boolean | undefined;
  patientCpr?: string | undefined;
  partOf?: string | undefined;
  limit: number;
  offset: number;
}

export async function listTasks(
  db: Queryable,
  q: TaskQuery,
  now: Date,
): Promise<{ tasks: TaskRecord[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.organization) {
    const system = p(q.organization.system);
    const value = p(q.organization.value);
    const requester = `(requester_system = ${system} AND requester_value = ${value})`;
    const owner = `(owner_system = ${system} AND owner_value = ${value})`;
    where.push(q.side === 'requester' ? requester : q.side === 'owner' ? owner : `(${requester} OR ${owner})`);
  }
  if (q.statuses?.length) {
    where.push(`status = ANY(${p(q.statuses)}::text[])`);
  }
  if (q.overdue !== undefined) {
    const open = `status <> ALL(${p(FINAL_TASK_STATUSES)}::text[]) AND due_at < ${p(now)}`;
    where.push(q.overdue ? `(${open})` : `NOT (${open})`);
  }
  if (q.patientCpr) {
    where.push(`patient_cpr = ${p(q.patientCpr)}`);
  }
  if (q.partOf) {
    where.push(`part_of = ${p(q.partOf)}`);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM tasks ${clause}`, params);
  const rows = await db.query<TaskRow>(
    `SELECT * FROM tasks ${clause} ORDER BY due_at, id LIMIT ${p(q.limit)} OFFSET ${p(q.offset)}`,
    params,
  );
  return { tasks: rows.map(record), total: Number(total[0]?.n ?? 0) };
}

export const REMINDER_KINDS = ['before-deadline', 'deadline'] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];
/** A reminder is scheduled until it is sent or its Task ends (task_reminders.state). */
export const REMINDER_STATES = ['scheduled', 'sent', 'cancelled'] as const;
export type ReminderState = (typeof REMINDER_STATES)[number];

export async function scheduleReminder(tx: Queryable, taskId: string, kind: ReminderKind, dueAt: Date): Promise<void> {
  await tx.query(
    `INSERT INTO task_reminders (task_id, kind, due_at) VALUES ($1, $2, $3)
     ON CONFLICT (task_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at, state = 'scheduled', updated_at = now()`,
    [taskId, kind, dueAt],
  );
}

/** Marks a reminder sent; false when it was not scheduled any more (sent already, or cancelled). */
export async function claimReminder(tx: Queryable, taskId: string, kind: ReminderKind): Promise<boolean> {
  const rows = await tx.query(
    "UPDATE task_reminders SET state = 'sent', updated_at = now() WHERE task_id = $1 AND kind = $2 AND state = 'scheduled' RETURNING task_id",
    [taskId, kind],
  );
  return rows.length > 0;
}

export async function cancelReminders(tx: Queryable, taskId: string): Promise<ReminderKind[]> {
  const rows = await tx.query<{ kind: ReminderKind }>(
    "UPDATE task_reminders SET state = 'cancelled', updated_at = now() WHERE task_id = $1 AND state = 'scheduled' RETURNING kind",
    [taskId],
  );
  return rows.map((r) => r.kind);
}

export async function scheduledReminders(
  db: Queryable,
): Promise<Array<{ taskId: string; kind: ReminderKind; dueAt: Date }>> {
  const rows = await db.query<{ task_id: string; kind: ReminderKind; due_at: Date | string }>(
    "SELECT task_id, kind, due_at FROM task_reminders WHERE state = 'scheduled' ORDER BY due_at LIMIT 10000",
  );
  return rows.map((r) => ({ taskId: r.task_id, kind: r.kind, dueAt: date(r.due_at) }));
}

export async function reminderStates(
  db: Queryable,
  taskId: string,
): Promise<Array<{ kind: ReminderKind; dueAt: string; state: ReminderState }>> {
  const rows = await db.query<{ kind: ReminderKind; due_at: Date | string; state: ReminderState }>(
    'SELECT kind, due_at, state FROM task_reminders WHERE task_id = $1 ORDER BY due_at, kind',
    [taskId],
  );
  return rows.map((r) => ({ kind: r.kind, dueAt: date(r.due_at).toISOString(), state: r.state }));
}

/** The request was delivered to the physician's system: requested → received. Called in the delivery's transaction. */
export async function markTaskReceived(tx: Queryable, taskId: string): Promise<void> {
  const rows = await tx.query(
    "UPDATE tasks SET status = 'received', updated_at = now() WHERE id = $1 AND status = 'requested' RETURNING id",
    [taskId],
  );
  if (rows.length > 0) {
    await addTaskEvent(tx, taskId, {
      event: 'received',
      status: 'received',
      actor: 'sektorbro',
      note: "delivered to the physician's system",
    });
  }
}
