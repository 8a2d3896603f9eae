import { randomUUID } from 'node:crypto';
import type { OperationOutcomeIssue, Questionnaire, QuestionnaireResponse, Task } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { sectorOfOrganization, sectorOfRole, type DisclosureGuard } from '../consent/disclosure-guard';
import type { Sector } from '../consent/evaluate-consent';
import { kindFacts, type MessageKind } from '../messages/message-kinds';
import { findOrganizationEndpoint, type ConnectionType } from '../directory/directory';
import { resolveRecipient } from '../directory/resolve-recipient';
import { errors, outcome, reasonDetails, type IssueInput } from '../errors';
import type { MappingContext } from '../mappers/context';
import { WITHHOLDABLE } from '../mappers/minimise';
import {
  answeredDataClasses,
  checkResponse,
  minimiseResponse,
  nativeToQuestionnaireResponse,
  responseFromFhir,
  type ResponseRefs,
} from '../mappers/status-report/answers';
import { statusReportEntries } from '../mappers/status-report/message-entries';
import { questionnaireDataClasses } from '../mappers/status-report/questionnaire';
import {
  draftRequest,
  followUpInput,
  nativeFromTask,
  type RequestDraft,
  type StandardSets,
} from '../mappers/status-report/request-draft';
import type { Party } from '../mappers/party';
import { FINAL_TASK_STATUSES, type TaskRecord, type TaskStatus } from '../mappers/status-report/task';
import type {
  NativeStatusReportAnswer,
  NativeStatusReportFollowUp,
  NativeStatusReportRequest,
} from '../mappers/status-report/types';
import { CANONICAL_BASE, SYSTEM } from '../mappers/systems';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import { storeOutgoingMessage, type OutgoingMessage } from '../intake/outgoing-message';
import type { FhirValidator } from '../validation/fhir-validator';
import { assertValidBody } from '../validation/request-schemas';
import type { ReminderScheduler } from './reminders';
import { replayEarlier, requestHash, storeOrReplay } from '../store/store-or-replay';
import { isUuid } from '../store/uuid';
import {
  addTaskEvent,
  cancelReminders,
  claimReminder,
  findTaskByIdempotencyKey,
  getTask,
  insertTask,
  markOverdue,
  scheduleReminder,
  updateTask,
  type ReminderKind,
} from './task-store';
import { refuseDisclosure } from '../consent/refuse-disclosure';
import { assertValidFhirInput } from '../validation/valid-fhir-input';

/**
 * Status-report requests from a jobcentre to a physician, as a shared work list: the request (consent
 * checked for the answer it asks for), the Task's lifecycle, reminders, the answer (checked against the
 * Questionnaire, minimised to the consent) and follow-ups threaded onto the original. Every message goes
 * out through the same outbox as documents, so a 202 means it is stored and will be delivered.
 */
export interface StatusReportDeps {
  db: Db;
  guard: DisclosureGuard;
  validator: FhirValidator;
  logger: Logger;
  sets: StandardSets;
  reminders: ReminderScheduler | undefined;
  /** How long before the deadline the addressee is reminded. */
  remindBeforeMs: number;
  gatewayEndpoint: string;
  /** Wakes the outbox relay after a commit. */
  onAccepted: () => void;
}

export interface TaskAnswer {
  id: string;
  status: TaskStatus;
  deadline: string;
  messageId?: string;
  outcome: ReturnType<typeof outcome>;
}

/** The gateway itself, as the sender of reminders and overdue notices. */
const GATEWAY_PARTY: Party = {
  system: `${CANONICAL_BASE}/NamingSystem/gateway`,
  value: 'sektorbro',
  name: 'Sektorbro',
};
const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const REASON = (code: string, display: string) => ({ system: SYSTEM.taskNotification, code, display });

interface Endpointed {
  party: Party;
  endpoint: { address: string; connectionType: ConnectionType };
}

export async function requestStatusReport(
  deps: StatusReportDeps,
  client: GatewayClient,
  request: {
    format: 'native' | 'fhir';
    body: unknown;
    idempotencyKey?: string | undefined;
    partOf?: TaskRecord | undefined;
  },
): Promise<{ answer: TaskAnswer; task: TaskRecord; replayed: boolean }> {
  const hash = requestHash(['status-report', request.partOf?.id ?? ''], request.body);
  const replay = () =>
    replayEarlier(request.idempotencyKey, hash, {
      find: (key) => findTaskByIdempotencyKey(deps.db, client.id, key),
      hashOf: (earlier) => earlier.requestHash,
      name: (earlier) => `task ${earlier.task.id}`,
      answer: (earlier) => ({
        answer: {
          id: earlier.task.id,
          status: earlier.task.status,
          deadline: earlier.task.dueAt.toISOString(),
          outcome: outcome([]),
        },
        task: earlier.task,
        replayed: true,
      }),
    });
  const earlier = await replay();
  if (earlier) {
    return earlier;
  }
  const ctx = context(deps);
  const { draft, notes } = toDraft(deps, request, ctx);
  const paths = {
    patient: request.format === 'fhir' ? 'Task.for' : 'patient.cpr',
    recipient: request.format === 'fhir' ? 'Task.owner' : 'addressee.sor',
  };
  const requester = await requesterEndpoint(deps.db, client);
  // Consent for the answer comes before the directory is asked who the patient's physician is: a jobcentre
  // the citizen has not consented to learns nothing from the directory, not even whether the CPR number is
  // in it (an unknown number and a known one without consent get the same 403).
  const { decision: answerDecision, optional } = await answerMayGo(deps, client, {
    patientCpr: draft.patientCpr,
    questionnaire: draft.questionnaire,
    requester: requester.party,
    purpose: draft.purpose,
  });
  const addressee = await resolveRecipient(deps.db, {
    patientCpr: draft.patientCpr,
    recipientSor: draft.addresseeSor,
    paths,
  });
  if (sectorOfOrganization(addressee.organization) !== 'health') {
    throw errors.unprocessable({
      diagnostics: `${paths.recipient}: a status report is asked of a physician (a GP or a hospital department), not of ${addressee.name ?? addressee.sor}`,
      expression: paths.recipient,
      reason: 'not-a-physician',
    });
  }
  const owner: Party = { system: SYSTEM.sor, value: addressee.sor, name: addressee.name ?? null };

  // Consent: the request itself (no objection to this municipality asking).
  const ask = await decide(deps, draft.patientCpr, {
    kind: 'status-report-request',
    from: 'municipality',
    to: 'health',
    recipient: owner,
    purpose: draft.purpose,
    required: ['status-report-request'],
    optional: [],
  });
  if (!ask.permit) {
    throw await refused(deps, client, draft.patientCpr, owner, 'status-report-request', ask);
  }
  const relabelled: OperationOutcomeIssue[] = notes.map((n) => ({
    severity: 'warning',
    code: 'informational',
    diagnostics: n.diagnostics,
    ...(n.expression ? { expression: [n.expression] } : {}),
    details: reasonDetails('data-class-assigned'),
  }));
  const warnings: OperationOutcomeIssue[] = optional
    .filter((c) => !answerDecision.disclose.includes(c))
    .map((c) => ({
      severity: 'warning',
      code: 'suppressed',
      diagnostics: `the patient's consent does not cover ${c}: answers to the questions about it will be withheld from you`,
      details: reasonDetails('answer-will-be-withheld'),
    }));
  warnings.unshift(...relabelled);

  const task: TaskRecord = {
    id: randomUUID(),
    status: 'requested',
    statusReason: null,
    partOf: request.partOf?.id ?? null,
    patientCpr: draft.patientCpr,
    questionSet: draft.questionSet,
    purpose: draft.purpose,
    reason: draft.reason,
    questionnaire: draft.questionnaire,
    requester: { ...requester.party, clientId: client.id },
    caseworker: draft.caseworker ?? null,
    owner,
    dueAt: draft.dueAt,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    answeredAt: null,
    answeredLate: null,
    overdueAt: null,
    response: null,
  };
  const original = request.partOf ? { task: request.partOf, response: request.partOf.response } : undefined;
  const reminders = reminderPlan(deps, task, ctx.now);
  const result = await storeOrReplay(
    Boolean(request.idempotencyKey),
    () =>
      deps.db.transaction(async (tx) => {
        await insertTask(tx, task, { idempotencyKey: request.idempotencyKey, requestHash: hash });
        await addTaskEvent(tx, task.id, {
          event: request.partOf ? 'follow-up-requested' : 'requested',
          status: 'requested',
          actor: client.id,
          note: request.partOf ? `follow-up to Task/${request.partOf.id}` : undefined,
        });
        for (const r of reminders) {
          await scheduleReminder(tx, task.id, r.kind, r.at);
        }
        return storeTaskMessage(tx, ctx, task, {
          kind: 'status-report-request',
          sender: {
            clientId: client.id,
            role: client.role,
            sector: sectorOfRole(client.role),
            party: requester.party,
          },
          to: { party: owner, endpoint: addressee.endpoint },
          content: statusReportEntries(task, ctx, original ? { original } : {}),
          disclosure: { purpose: draft.purpose, dataClasses: ['status-report-request'] },
        });
      }),
    replay,
  );
  if ('replayed' in result) {
    return result.replayed;
  }
  const messageId = result.stored;
  deps.onAccepted();
  await scheduleJobs(deps, task.id, reminders);
  deps.logger.info(
    { taskId: task.id, messageId, client: client.id, questionSet: task.questionSet },
    'status-report request accepted',
  );
  return {
    answer: {
      id: task.id,
      status: task.status,
      deadline: task.dueAt.toISOString(),
      messageId,
      outcome: outcome(warnings),
    },
    task,
    replayed: false,
  };
}

function toDraft(
  deps: StatusReportDeps,
  request: { format: 'native' | 'fhir'; body: unknown },
  ctx: MappingContext,
): { draft: RequestDraft; notes: IssueInput[] } {
  let native: NativeStatusReportRequest;
  let extraItems: Questionnaire['item'] = [];
  let paths: { deadline: string; questions: string } | undefined;
  if (request.format === 'native') {
    assertValidBody('NativeStatusReportRequest', request.body);
    native = request.body as NativeStatusReportRequest;
  } else {
    const task = request.body as Partial<Task> | null;
    if (task?.resourceType !== 'Task') {
      throw errors.invalid({
        diagnostics: 'resourceType: a status-report request in FHIR is a Task',
        expression: 'resourceType',
      });
    }
    assertValidFhirInput(deps.validator, task);
    const mapped = nativeFromTask(task as Task, deps.sets);
    if (mapped.issues.length > 0) {
      throw errors.invalid(...mapped.issues);
    }
    native = mapped.input;
    extraItems = mapped.extraItems;
    paths = { deadline: 'Task.restriction.period.end', questions: 'Task.contained' };
  }
  const { draft, issues, notes } = draftRequest(native, deps.sets, ctx, { extraItems, ...(paths ? { paths } : {}) });
  if (!draft) {
    throw errors.unprocessable(...issues);
  }
  return { draft, notes };
}

/** The jobcentre must be reachable for the answer: its organisation and endpoint in the directory. */
async function requesterEndpoint(db: Db, client: GatewayClient): Promise<Endpointed> {
  const { org, endpoint } = await findOrganizationEndpoint(db, client.organization);
  if (!org || !endpoint) {
    throw errors.unprocessable({
      diagnostics: `your organisation (${client.organization.value}) has ${org ? 'no active FHIR endpoint' : 'no entry'} in the directory, so the answer could not reach you`,
      expression: 'Authorization',
      reason: 'requester-not-reachable',
    });
  }
  return {
    party: { system: client.organization.system, value: client.organization.value, name: org.name },
    endpoint,
  };
}

async function partyEndpoint(db: Queryable, party: Party): Promise<Endpointed> {
  const found = await findPartyEndpoint(db, party);
  if (!found) {
    throw errors.unprocessable({
      diagnostics: `${party.name ?? party.value} has no active FHIR endpoint in the directory any more`,
      reason: 'no-endpoint',
    });
  }
  return found;
}

async function findPartyEndpoint(db: Queryable, party: Party): Promise<Endpointed | undefined> {
  const { endpoint } = await findOrganizationEndpoint(db, party);
  return endpoint ? { party, endpoint } : undefined;
}

interface DecideArgs {
  kind: MessageKind;
  from: 'health' | 'municipality';
  to: 'health' | 'municipality';
  recipient: Party;
  purpose: string;
  required: string[];
  optional: string[];
}

async function decide(deps: StatusReportDeps, cpr: string, a: DecideArgs) {
  return deps.guard.decide(deps.db, cpr, {
    messageKind: a.kind,
    from: a.from,
    to: a.to,
    recipient: { system: a.recipient.system, value: a.recipient.value },
    purpose: a.purpose,
    dataClasses: a.required,
    optionalDataClasses: a.optional,
  });
}

/** A refusal is written to the patient's disclosure log and answered 403 with what is missing, nothing more. */
async function refused(
  deps: StatusReportDeps,
  client: GatewayClient,
  cpr: string,
  recipient: Party,
  kind: MessageKind,
  decision: { consent?: string; reason: string },
) {
  return refuseDisclosure(
    deps.db,
    {
      messageKind: kind,
      messageId: randomUUID(),
      sender: { clientId: client.id, organization: client.organization },
      recipient: { system: recipient.system, value: recipient.value, name: recipient.name ?? undefined },
      patientCpr: cpr,
      dataClasses: [kindFacts(kind).dataClass],
      reason: `refused at intake: ${decision.reason}`,
    },
    decision,
    `consent: ${decision.reason}`,
  );
}

/**
 * Whether the answer to this Questionnaire may go to the requester: the classes its questions ask for are
 * required, diagnosis, medication and clinical notes optional (withheld where the consent does not cover them).
 * A refusal is logged and thrown as a 403.
 */
async function answerMayGo(
  deps: StatusReportDeps,
  client: GatewayClient,
  t: { patientCpr: string; questionnaire: Questionnaire; requester: Party; purpose: string },
) {
  const classes = questionnaireDataClasses(t.questionnaire);
  const optional = classes.filter((c) => (WITHHOLDABLE as readonly string[]).includes(c));
  const required = classes.filter((c) => !optional.includes(c));
  const decision = await decide(deps, t.patientCpr, {
    kind: 'status-report',
    from: 'health',
    to: 'municipality',
    recipient: t.requester,
    purpose: t.purpose,
    required,
    optional,
  });
  if (!decision.permit) {
    throw await refused(deps, client, t.patientCpr, t.requester, 'status-report', decision);
  }
  return { decision, optional };
}

function reminderPlan(deps: StatusReportDeps, task: TaskRecord, now: Date): Array<{ kind: ReminderKind; at: Date }> {
  const before = new Date(task.dueAt.getTime() - deps.remindBeforeMs);
  return [
    ...(before.getTime() > now.getTime() ? [{ kind: 'before-deadline' as const, at: before }] : []),
    { kind: 'deadline', at: task.dueAt },
  ];
}

async function scheduleJobs(
  deps: StatusReportDeps,
  taskId: string,
  plan: Array<{ kind: ReminderKind; at: Date }>,
): Promise<void> {
  // The rows are committed; a Redis hiccup here is repaired by the scheduler's reconcile pass.
  const reminders = deps.reminders;
  if (!reminders) {
    return;
  }
  await Promise.all(plan.map((r) => reminders.schedule(taskId, r.kind, r.at))).catch((e: unknown) => {
    deps.logger.warn(
      { taskId, err: { message: (e as Error).message } },
      'reminder not queued yet; reconcile will add it',
    );
  });
}

async function storeTaskMessage(
  tx: Queryable,
  ctx: MappingContext,
  task: TaskRecord,
  m: Omit<OutgoingMessage, 'document' | 'patientCpr' | 'taskId'> & { content: OutgoingMessage['document'] },
): Promise<string> {
  const { content, ...rest } = m;
  return storeOutgoingMessage(tx, ctx, { ...rest, document: content, patientCpr: task.patientCpr, taskId: task.id });
}

function context(deps: StatusReportDeps): MappingContext {
  return { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
}

const sameOrg = (client: GatewayClient, p: { system: string; value: string }) =>
  client.organization.system === p.system && client.organization.value === p.value;

/** The Task as the client may see it: requester, addressee or admin; anyone else learns nothing (404). */
export async function visibleTask(db: Db, client: GatewayClient, id: string): Promise<TaskRecord> {
  const task = isUuid(id) ? await getTask(db, id) : undefined;
  if (!task || !(client.role === 'admin' || sameOrg(client, task.requester) || sameOrg(client, task.owner))) {
    throw errors.notFound({ diagnostics: `status-report request ${id} not found` });
  }
  return task;
}

const OWNER_MOVES: Partial<Record<TaskStatus, TaskStatus[]>> = {
  received: ['requested'],
  accepted: ['requested', 'received'],
  rejected: ['requested', 'received', 'accepted', 'in-progress'],
  'in-progress': ['requested', 'received', 'accepted'],
};

/**
 * A transition by one side: the addressee marks received, accepted, rejected (with a reason) or in
 * progress; the requester cancels. Rejection and cancellation reach the other side as a message and stop
 * the reminders.
 */
export async function transitionTask(
  deps: StatusReportDeps,
  client: GatewayClient,
  id: string,
  body: unknown,
): Promise<TaskRecord> {
  assertValidBody('TaskTransition', body);
  const change = body as { status: TaskStatus; reason?: string | undefined };
  const visible = await visibleTask(deps.db, client, id);
  const isOwner = sameOrg(client, visible.owner) && (client.role === 'gp' || client.role === 'hospital');
  const isRequester = sameOrg(client, visible.requester) && client.role === 'jobcentre';
  if (change.status === 'cancelled' ? !isRequester : !isOwner) {
    throw errors.forbidden({
      diagnostics:
        change.status === 'cancelled'
          ? 'only the requesting jobcentre can cancel a status-report request'
          : `only the addressed physician's organisation can mark a request ${change.status}`,
      reason: 'not-your-task',
    });
  }
  if ((change.status === 'rejected' || change.status === 'cancelled') && !change.reason?.trim()) {
    throw errors.invalid({
      diagnostics: `reason: say why the request is ${change.status}`,
      expression: 'reason',
      reason: 'reason-required',
    });
  }
  const allowedFrom =
    change.status === 'cancelled' ? ['requested', 'received', 'accepted', 'in-progress'] : OWNER_MOVES[change.status];
  if (!allowedFrom) {
    throw errors.invalid({
      diagnostics: `status: ${change.status} is not set by hand (completed comes with the answer)`,
      expression: 'status',
    });
  }
  const ctx = context(deps);
  const reason = change.status === 'rejected' ? await rejectionReason(deps, visible, change.reason) : change.reason;
  const { task, cancelled } = await deps.db.transaction(async (tx) => {
    const current = await getTask(tx, id, { forUpdate: true });
    if (!current || !allowedFrom.includes(current.status)) {
      throw errors.conflict({
        diagnostics: `the request is ${current?.status ?? 'gone'}; it cannot become ${change.status}`,
        reason: 'invalid-transition',
      });
    }
    const updated = await updateTask(
      tx,
      id,
      { status: change.status, reason: reason ?? null },
      { event: change.status, actor: client.id, note: reason },
    );
    let stopped: ReminderKind[] = [];
    if (FINAL_TASK_STATUSES.includes(change.status)) {
      stopped = await cancelReminders(tx, id);
      const party = change.status === 'cancelled' ? updated.owner : updated.requester;
      const to = await findPartyEndpoint(tx, party);
      const from = change.status === 'cancelled' ? updated.requester : updated.owner;
      if (!to) {
        // The other side lost its endpoint: the request still closes (a cancellation must always be
        // possible), and its history says the notice could not be sent.
        await addTaskEvent(tx, id, {
          event: 'notice-undeliverable',
          status: change.status,
          actor: 'sektorbro',
          note: `${change.status} notice to ${party.name ?? party.value} not sent: no active FHIR endpoint in the directory`,
        });
        return { task: updated, cancelled: stopped };
      }
      await storeTaskMessage(tx, ctx, updated, {
        kind: 'status-report-update',
        sender: { clientId: client.id, role: client.role, sector: sectorOfRole(client.role), party: from },
        to,
        content: statusReportEntries(updated, ctx),
        disclosure: { purpose: updated.purpose, dataClasses: ['status-report-request'] },
        reason:
          change.status === 'cancelled'
            ? REASON('cancelled', 'Anmodningen er trukket tilbage (cancelled)')
            : REASON('rejected', 'Anmodningen er afvist (rejected)'),
      });
    }
    return { task: updated, cancelled: stopped };
  });
  deps.onAccepted();
  await deps.reminders?.cancel(id, cancelled);
  return task;
}

const REASON_NOT_PASSED_ON =
  "Afvist af lægen. Lægens begrundelse er fritekst og følger kun med, hvor borgerens samtykke dækker kliniske notater (rejected by the physician; the physician's free-text reason is passed on only where the citizen's consent covers clinical notes)";

/**
 * Why the physician rejected a request, as the jobcentre may read it: the physician's words are free text about
 * a patient (the clinical-notes class, whatever they say), so they are kept and sent only where the citizen's
 * consent covers clinical notes for this jobcentre now; otherwise a fixed sentence stands in for them, on the
 * Task, in its history and in the notice. The physician's system has its own words.
 */
async function rejectionReason(deps: StatusReportDeps, task: TaskRecord, reason: string | undefined) {
  const decision = await decide(deps, task.patientCpr, {
    kind: 'status-report',
    from: 'health',
    to: 'municipality',
    recipient: task.requester,
    purpose: task.purpose,
    required: [],
    optional: ['clinical-notes'],
  });
  return decision.permit && decision.disclose.includes('clinical-notes') ? reason : REASON_NOT_PASSED_ON;
}

/**
 * The physician's answer: checked against the Questionnaire, minimised to what the consent covers now,
 * delivered to the jobcentre; the Task completes with the answer as its output. A late answer is taken
 * and marked late; an answer to a cancelled or rejected request is a 409.
 */
export async function answerStatusReport(
  deps: StatusReportDeps,
  client: GatewayClient,
  id: string,
  input: { format: 'native' | 'fhir'; body: unknown },
): Promise<TaskAnswer> {
  const task = await visibleTask(deps.db, client, id);
  if (!(sameOrg(client, task.owner) && (client.role === 'gp' || client.role === 'hospital'))) {
    throw errors.forbidden({
      diagnostics: "only the addressed physician's organisation can answer this request",
      reason: 'not-your-task',
    });
  }
  if (FINAL_TASK_STATUSES.includes(task.status)) {
    throw errors.conflict({
      diagnostics: `the request is ${task.status}${task.statusReason ? ` (${task.statusReason})` : ''}; it takes no answer`,
      reason: 'task-closed',
    });
  }
  const ctx = context(deps);
  const author = {
    system: client.organization.system,
    value: client.organization.value,
    name: task.owner.name ?? undefined,
  };
  let response: QuestionnaireResponse;
  if (input.format === 'native') {
    assertValidBody('NativeStatusReportAnswer', input.body);
    const native = input.body as NativeStatusReportAnswer;
    const mapped = nativeToQuestionnaireResponse(
      native,
      task.questionnaire,
      {
        taskId: task.id,
        patientCpr: task.patientCpr,
        author: { ...author, name: native.physician?.name ?? author.name },
      },
      ctx,
    );
    if (mapped.issues.length > 0) {
      throw errors.invalid(...mapped.issues);
    }
    response = mapped.response;
  } else {
    response = fhirResponse(deps, task, input.body, ctx, author);
  }
  const pathOf = (linkId: string) =>
    input.format === 'native' ? `answers.${linkId}` : `QuestionnaireResponse.item.where(linkId='${linkId}')`;
  const problems = checkResponse(response, task.questionnaire, pathOf);
  if (problems.length > 0) {
    throw errors.unprocessable(...problems);
  }
  const { decision } = await answerMayGo(deps, client, task);
  const { response: view, withheld } = minimiseResponse(response, task.questionnaire, decision.disclose);
  const late = ctx.now.getTime() > task.dueAt.getTime();
  const result = await deps.db.transaction(async (tx) => {
    const current = await getTask(tx, id, { forUpdate: true });
    if (!current || FINAL_TASK_STATUSES.includes(current.status)) {
      throw errors.conflict({
        diagnostics: `the request is ${current?.status ?? 'gone'}; it takes no answer`,
        reason: 'task-closed',
      });
    }
    const completed = await updateTask(
      tx,
      id,
      { status: 'completed', response: view, answeredLate: late },
      { event: late ? 'answered-late' : 'answered', actor: client.id },
    );
    const stopped = await cancelReminders(tx, id);
    const to = await partyEndpoint(tx, completed.requester);
    const messageId = await storeTaskMessage(tx, ctx, completed, {
      kind: 'status-report',
      sender: { clientId: client.id, role: client.role, sector: sectorOfRole(client.role), party: completed.owner },
      to,
      content: statusReportEntries(completed, ctx, { response: view }),
      disclosure: { purpose: task.purpose, dataClasses: answeredDataClasses(view, task.questionnaire) },
    });
    return { completed, stopped, messageId };
  });
  deps.onAccepted();
  await deps.reminders?.cancel(id, result.stopped);
  const notes: IssueInput[] = [
    ...(late
      ? [
          {
            severity: 'warning' as const,
            code: 'informational' as const,
            diagnostics: `the answer came after the deadline (${task.dueAt.toISOString()}); it is delivered and marked late`,
          },
        ]
      : []),
    ...(withheld.length
      ? [
          {
            severity: 'information' as const,
            code: 'suppressed' as const,
            diagnostics: `withheld from the jobcentre under the patient's consent: ${withheld.join(', ')}`,
          },
        ]
      : []),
  ];
  return {
    id,
    status: result.completed.status,
    deadline: result.completed.dueAt.toISOString(),
    messageId: result.messageId,
    outcome: outcome(
      notes.map((n) => ({
        severity: n.severity ?? 'information',
        code: n.code ?? 'informational',
        diagnostics: n.diagnostics,
      })),
    ),
  };
}

function fhirResponse(
  deps: StatusReportDeps,
  task: TaskRecord,
  body: unknown,
  ctx: MappingContext,
  author: ResponseRefs['author'],
): QuestionnaireResponse {
  const qr = body as Partial<QuestionnaireResponse> | null;
  if (qr?.resourceType !== 'QuestionnaireResponse') {
    throw errors.invalid({
      diagnostics: 'resourceType: the answer in FHIR is a QuestionnaireResponse',
      expression: 'resourceType',
    });
  }
  assertValidFhirInput(deps.validator, qr);
  if (qr.status !== 'completed' && qr.status !== 'amended') {
    throw errors.invalid({
      diagnostics: 'QuestionnaireResponse.status: send the answer when it is completed',
      expression: 'QuestionnaireResponse.status',
    });
  }
  if (qr.questionnaire && qr.questionnaire !== task.questionnaire.url) {
    throw errors.unprocessable({
      diagnostics: `QuestionnaireResponse.questionnaire: this request asks ${task.questionnaire.url ?? ''}, not ${qr.questionnaire}`,
      expression: 'QuestionnaireResponse.questionnaire',
      reason: 'wrong-questionnaire',
    });
  }
  const cpr = qr.subject?.identifier?.value;
  if (cpr && cpr !== task.patientCpr) {
    throw errors.unprocessable({
      diagnostics: 'QuestionnaireResponse.subject: the answer is about another patient than the request',
      expression: 'QuestionnaireResponse.subject',
      reason: 'wrong-patient',
    });
  }
  if (qr.authored !== undefined && !DATE_TIME.test(qr.authored)) {
    throw errors.invalid({
      diagnostics: 'QuestionnaireResponse.authored: must be a date-time with a time zone',
      expression: 'QuestionnaireResponse.authored',
    });
  }
  // The answer is built anew from the values the gateway checked; whatever else the sender put in is refused.
  const built = responseFromFhir(qr, task.questionnaire, {
    id: ctx.newId(),
    taskId: task.id,
    patientCpr: task.patientCpr,
    author,
    authored: qr.authored ?? ctx.now.toISOString(),
  });
  if (built.issues.length > 0) {
    throw errors.invalid(...built.issues.slice(0, 50));
  }
  return built.response;
}

/** A follow-up question from the requester, threaded onto a completed request and sent to the same physician. */
export async function followUpStatusReport(
  deps: StatusReportDeps,
  client: GatewayClient,
  id: string,
  body: unknown,
  idempotencyKey: string | undefined,
) {
  const original = await visibleTask(deps.db, client, id);
  if (!(sameOrg(client, original.requester) && client.role === 'jobcentre')) {
    throw errors.forbidden({
      diagnostics: 'only the requesting jobcentre can ask a follow-up question',
      reason: 'not-your-task',
    });
  }
  if (original.status !== 'completed') {
    throw errors.conflict({
      diagnostics: `the request is ${original.status}: a follow-up threads onto an answered request (wait for the answer, or cancel and ask again)`,
      reason: 'not-answered-yet',
    });
  }
  assertValidBody('NativeStatusReportFollowUp', body);
  const input = followUpInput(
    { patientCpr: original.patientCpr, purpose: original.purpose, ownerSor: original.owner.value },
    body as NativeStatusReportFollowUp,
  );
  return requestStatusReport(deps, client, { format: 'native', body: input, idempotencyKey, partOf: original });
}

/**
 * A reminder comes due: before the deadline the physician is reminded; at the deadline the physician is
 * reminded again, the Task is marked overdue and the requester told. Nothing happens for a Task that was
 * answered or closed meanwhile (its reminders were cancelled in the same transaction that closed it).
 */
export async function fireReminder(deps: StatusReportDeps, taskId: string, kind: ReminderKind): Promise<void> {
  const ctx = context(deps);
  const sent = await deps.db.transaction(async (tx) => {
    if (!(await claimReminder(tx, taskId, kind))) {
      return false;
    }
    const task = await getTask(tx, taskId, { forUpdate: true });
    if (!task || FINAL_TASK_STATUSES.includes(task.status)) {
      return false;
    }
    const current = kind === 'deadline' ? ((await markOverdue(tx, taskId)) ?? task) : task;
    if (kind === 'before-deadline') {
      await addTaskEvent(tx, taskId, {
        event: 'reminded',
        status: task.status,
        actor: 'sektorbro',
        note: 'reminder before the deadline',
      });
    }
    // Each notice goes on its own: a party that lost its endpoint must not hold back the other party's
    // notice or the overdue mark. What could not be sent is on the Task's history for both sides to see.
    const notices: Array<{
      party: Party;
      role: 'jobcentre' | 'admin';
      sector: Sector;
      content: ReturnType<typeof statusReportEntries>;
      reason: ReturnType<typeof REASON>;
    }> = [
      {
        party: current.owner,
        role: 'jobcentre',
        // A reminder to the practice follows up the jobcentre's request on its behalf.
        sector: 'municipality',
        content: statusReportEntries(current, ctx, { original: undefined }),
        reason:
          kind === 'deadline'
            ? REASON('deadline', 'Fristen er i dag (the deadline is now)')
            : REASON('reminder', 'Påmindelse: fristen nærmer sig (reminder: the deadline is near)'),
      },
    ];
    if (kind === 'deadline') {
      notices.push({
        party: current.requester,
        role: 'admin',
        // An overdue notice to the jobcentre reports the practice's side of the task (no answer came).
        sector: 'health',
        content: statusReportEntries(current, ctx),
        reason: REASON('overdue', 'Fristen er overskredet uden svar (overdue: no answer by the deadline)'),
      });
    }
    for (const notice of notices) {
      const to = await findPartyEndpoint(tx, notice.party);
      if (!to) {
        await addTaskEvent(tx, taskId, {
          event: 'notice-undeliverable',
          status: current.status,
          actor: 'sektorbro',
          note: `${notice.reason.code} notice to ${notice.party.name ?? notice.party.value} not sent: no active FHIR endpoint in the directory`,
        });
        deps.logger.warn(
          { taskId, kind, reason: notice.reason.code },
          'status-report notice not sent: the party has no endpoint',
        );
        continue;
      }
      await storeTaskMessage(tx, ctx, current, {
        kind: 'status-report-update',
        sender: { clientId: 'sektorbro', role: notice.role, sector: notice.sector, party: GATEWAY_PARTY },
        to,
        content: notice.content,
        disclosure: { purpose: current.purpose, dataClasses: ['status-report-request'] },
        reason: notice.reason,
      });
    }
    return true;
  });
  if (sent) {
    deps.onAccepted();
  }
}
