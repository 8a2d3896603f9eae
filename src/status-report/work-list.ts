import type { Bundle } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { errors } from '../errors';
import { SYSTEM } from '../mappers/systems';
import { buildTask, isOverdue, TASK_STATUSES, type TaskRecord, type TaskStatus } from '../mappers/status-report/task';
import type { Db } from '../store/db';
import { listTasks, reminderStates, taskEvents, type TaskQuery } from './task-store';
import { isUuid } from '../store/uuid';
import { bundleEntries } from '../mappers/bundle-entries';

/**
 * The shared work list: what a physician's organisation is asked and by when, what a jobcentre waits for.
 * A client sees the Tasks its organisation requested or owns; an operator (admin) sees all.
 */
export interface WorkListFilter {
  side?: 'requester' | 'addressee' | undefined;
  status?: string | undefined;
  overdue?: string | undefined;
  patient?: string | undefined;
  partOf?: string | undefined;
  organization?: { system: string; value: string } | undefined;
  limit?: string | undefined;
  offset?: string | undefined;
}

export function taskSummary(t: TaskRecord, now: Date) {
  return {
    id: t.id,
    status: t.status,
    statusReason: t.statusReason,
    overdue: isOverdue(t, now),
    deadline: t.dueAt.toISOString(),
    questionSet: t.questionSet,
    purpose: t.purpose,
    reason: t.reason,
    partOf: t.partOf,
    patient: { cpr: t.patientCpr },
    requester: { system: t.requester.system, value: t.requester.value, name: t.requester.name },
    addressee: { system: t.owner.system, value: t.owner.value, name: t.owner.name },
    caseworker: t.caseworker,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    answeredAt: t.answeredAt?.toISOString() ?? null,
    answeredLate: t.answeredLate,
  };
}

/** One Task with everything both sides need: the questions, the history, the reminders and the messages sent. */
export async function taskDetail(db: Db, task: TaskRecord) {
  const now = new Date();
  const [history, reminders, messages, followUps] = await Promise.all([
    taskEvents(db, task.id),
    reminderStates(db, task.id),
    db.query<{ id: string; kind: string; status: string; created_at: Date | string }>(
      'SELECT id, kind, status, created_at FROM messages WHERE task_id = $1 ORDER BY created_at, id',
      [task.id],
    ),
    db.query<{ id: string }>('SELECT id FROM tasks WHERE part_of = $1 ORDER BY created_at', [task.id]),
  ]);
  return {
    ...taskSummary(task, now),
    questionnaire: task.questionnaire,
    history,
    reminders,
    messages: messages.map((m) => ({
      id: m.id,
      kind: m.kind,
      status: m.status,
      createdAt: new Date(m.created_at).toISOString(),
    })),
    followUps: followUps.map((f) => f.id),
  };
}

export function parseWorkListFilter(client: GatewayClient, f: WorkListFilter): TaskQuery {
  const statuses = f.status
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = statuses?.find((s) => !(TASK_STATUSES as readonly string[]).includes(s));
  if (bad) {
    throw errors.invalid({
      diagnostics: `status: "${bad}" is not a Task status (${TASK_STATUSES.join(', ')})`,
      expression: 'status',
    });
  }
  if (f.side !== undefined && f.side !== 'requester' && f.side !== 'addressee') {
    throw errors.invalid({ diagnostics: 'side: requester or addressee', expression: 'side' });
  }
  if (f.overdue !== undefined && f.overdue !== 'true' && f.overdue !== 'false') {
    throw errors.invalid({ diagnostics: 'overdue: true or false', expression: 'overdue' });
  }
  if (f.patient !== undefined && !/^[0-9]{10}$/.test(f.patient)) {
    throw errors.invalid({ diagnostics: 'patient: a CPR number, 10 digits', expression: 'patient' });
  }
  if (f.partOf !== undefined && !isUuid(f.partOf)) {
    throw errors.invalid({ diagnostics: 'part-of: a Task id', expression: 'part-of' });
  }
  const limit = Number(f.limit ?? '50');
  const offset = Number(f.offset ?? '0');
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw errors.invalid({ diagnostics: 'limit: a whole number from 1 to 500', expression: 'limit' });
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw errors.invalid({ diagnostics: 'offset: a whole number, 0 or more', expression: 'offset' });
  }
  const organization = client.role === 'admin' ? f.organization : client.organization;
  return {
    organization,
    side: f.side === 'addressee' ? 'owner' : f.side,
    statuses: statuses as TaskStatus[] | undefined,
    overdue: f.overdue === undefined ? undefined : f.overdue === 'true',
    patientCpr: f.patient,
    partOf: f.partOf,
    limit,
    offset,
  };
}

export async function workList(db: Db, client: GatewayClient, f: WorkListFilter) {
  const now = new Date();
  const query = parseWorkListFilter(client, f);
  const { tasks, total } = await listTasks(db, query, now);
  return { total, items: tasks.map((t) => taskSummary(t, now)) };
}

/** FHIR search on Task: owner, requester (system|value or value), status, patient, part-of, _count, _offset. */
export async function searchTasks(
  db: Db,
  client: GatewayClient,
  params: Record<string, string | undefined>,
  baseUrl: string,
): Promise<Bundle> {
  const party = (value: string | undefined, name: string) => {
    if (value === undefined) {
      return undefined;
    }
    const [system, code] = value.includes('|') ? value.split('|', 2) : [undefined, value];
    if (!code) {
      throw errors.invalid({ diagnostics: `${name}: system|value or a value`, expression: name });
    }
    return { system: system ?? (/^[0-9]{4}$/.test(code) ? SYSTEM.municipality : SYSTEM.sor), value: code };
  };
  const owner = party(params.owner, 'owner');
  const requester = party(params.requester, 'requester');
  const org = owner ?? requester;
  const mine =
    client.role === 'admin' ||
    !org ||
    (org.system === client.organization.system && org.value === client.organization.value);
  if (!mine) {
    throw errors.forbidden({
      diagnostics: `${owner ? 'owner' : 'requester'}: you can search only your own organisation's Tasks`,
      reason: 'not-your-task',
    });
  }
  const patient = params.patient?.replace(`${SYSTEM.cpr}|`, '');
  const now = new Date();
  const query = parseWorkListFilter(client, {
    side: owner ? 'addressee' : requester ? 'requester' : undefined,
    status: params.status,
    overdue: params.overdue,
    patient,
    partOf: params['part-of'],
    organization: org,
    limit: params._count,
    offset: params._offset,
  });
  const { tasks, total } = await listTasks(db, query, now);
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total,
    ...bundleEntries(
      tasks.map((t) => ({
        fullUrl: `${baseUrl}/Task/${t.id}`,
        resource: buildTask(t, now),
        search: { mode: 'match' as const },
      })),
    ),
  };
}
