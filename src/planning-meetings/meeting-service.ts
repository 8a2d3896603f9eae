import { randomUUID } from 'node:crypto';
import type { Appointment } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import { findOrganizationByIdentifier, findPatientByCpr } from '../directory/directory';
import { errors } from '../errors';
import type { MappingContext } from '../mappers/context';
import { meetingEntries } from '../mappers/planning-meeting-appointment';
import { planItemsFor, type PlanAudience } from '../mappers/planning-meeting-plan';
import type { MeetingLetter } from '../mappers/planning-meeting-care-communication';
import type { MeetingPlan, MeetingRole, PlanItem, TimeSlot } from '../mappers/planning-meeting-types';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import { isUuid } from '../store/uuid';
import { assertValidBody } from '../validation/request-schemas';
import { recordAudit } from '../audit/record-audit';
import { SYSTEM } from '../mappers/systems';
import { MEETING_KIND, meetingDisclosure, sendMeetingMessage } from './meeting-messages';
import { resolveParticipants } from './meeting-participants';
import { recordMeetingMessage } from './meeting-replies';
import { readAppointmentResponse } from './read-answer';
import {
  bookMeeting,
  claimReminder,
  getMeeting,
  insertMeeting,
  meetingIdsFor,
  recordAnswer,
  setMeetingStatus,
  type StoredMeeting,
  type StoredParticipant,
} from './meeting-store';

/**
 * The planning meeting before discharge (issue 18, item 1). A hospital proposes it (time options, online link,
 * wanted participants); each invited participant's system gets an invitation in its dialect; participants
 * answer (AppointmentResponse: accepted, declined, or tentative with another time); the organiser books one
 * time (confirmation, or a change when already booked) or cancels, which reaches every invited participant; a
 * reminder goes out `reminderMinutesBefore` the booked start (a BullMQ delayed job, meeting-reminders.ts);
 * after the meeting the organiser records the agreed plan, which goes to every invited participant, for the
 * jobcentre only its work and support points, re-checked against the patient's consent at that moment.
 * Everything a step sends is stored in that step's transaction.
 */
export interface MeetingReminderScheduler {
  schedule(meetingId: string, version: number, dueAt: Date): Promise<void>;
  cancel(meetingId: string, version: number): Promise<void>;
}

export interface MeetingDeps {
  db: Db;
  guard: DisclosureGuard;
  logger: Logger;
  gatewayEndpoint: string;
  onAccepted: () => void;
  reminders?: MeetingReminderScheduler | undefined;
}

interface MeetingRequest {
  patient: { cpr: string };
  timeOptions: TimeSlot[];
  onlineLink: string;
  participants: MeetingRole[];
  organizer: { name: string; role?: string; phone?: string };
  reminderMinutesBefore?: number;
}

const ROLE_OF_CLIENT: Partial<Record<GatewayClient['role'], MeetingRole>> = {
  gp: 'gp',
  jobcentre: 'caseworker',
  caremanager: 'care-manager',
  patient: 'patient',
};

export async function proposeMeeting(deps: MeetingDeps, client: GatewayClient, body: unknown) {
  assertValidBody('PlanningMeetingRequest', body);
  const req = body as MeetingRequest;
  const now = new Date();
  const options = req.timeOptions.map((s, i) => checkedSlot(s, `timeOptions[${String(i)}]`, now));
  const patientRow = await findPatientByCpr(deps.db, req.patient.cpr);
  if (!patientRow) {
    throw errors.unprocessable({
      diagnostics: 'patient.cpr: the patient is not in the directory',
      expression: 'patient.cpr',
      reason: 'unknown-patient',
    });
  }
  const organizerRow = await findOrganizationByIdentifier(deps.db, client.organization);
  const id = randomUUID();
  const ctx = context(deps, now);
  const sender = { clientId: client.id, organization: client.organization };
  const meeting = await deps.db.transaction(async (tx) => {
    const participants = await resolveParticipants(tx, deps.guard, {
      patient: patientRow.resource,
      patientCpr: req.patient.cpr,
      roles: [...new Set(req.participants)],
      now,
      sender,
      meetingId: id,
    });
    const m: StoredMeeting = {
      id,
      patientCpr: req.patient.cpr,
      organizer: { ...client.organization, name: organizerRow?.name ?? null },
      organizerClient: client.id,
      organizerContact: req.organizer,
      status: 'proposed',
      timeOptions: options,
      onlineLink: req.onlineLink,
      version: 1,
      reminderMinutes: req.reminderMinutesBefore ?? 24 * 60,
      reminderDueAt: null,
      reminderSentAt: null,
      plan: null,
      createdAt: now.toISOString(),
      participants,
    };
    await insertMeeting(tx, m);
    await sendToAll(tx, ctx, m, { kind: 'invitation' }, client);
    return m;
  });
  deps.onAccepted();
  deps.logger.info(
    { meetingId: id, client: client.id, invited: meeting.participants.filter((p) => p.endpoint).length },
    'planning meeting proposed',
  );
  return meetingView(meeting, client);
}

/** A participant's answer: the AppointmentResponse's participantStatus, and for tentative the time it proposes. */
export async function answerMeeting(deps: MeetingDeps, client: GatewayClient, id: string, body: unknown) {
  const answer = readAppointmentResponse(body, id, new Date());
  return deps.db.transaction(async (tx) => {
    const meeting = await visibleMeeting(tx, client, id, true);
    const me = ownParticipant(meeting, client);
    if (!me) {
      throw errors.forbidden({
        diagnostics: 'only an invited participant answers the invitation',
        reason: 'not-a-recipient',
      });
    }
    open(meeting);
    await recordAnswer(tx, { meetingId: id, role: me.role, ...answer, clientId: client.id });
    return meetingView((await getMeeting(tx, id)) ?? meeting, client);
  });
}

/** The organiser books a time: one of its options or a time a participant proposed. */
export async function bookTime(deps: MeetingDeps, client: GatewayClient, id: string, body: unknown) {
  assertValidBody('PlanningMeetingBooking', body);
  const now = new Date();
  const slot = checkedSlot(body as TimeSlot, '', now);
  const result = await deps.db.transaction(async (tx) => {
    const meeting = organised(await visibleMeeting(tx, client, id, true), client);
    open(meeting);
    const offered = [...meeting.timeOptions, ...meeting.participants.flatMap((p) => (p.proposed ? [p.proposed] : []))];
    if (!offered.some((o) => sameSlot(o, slot))) {
      throw errors.unprocessable({
        diagnostics: 'start, end: book one of the meeting timeOptions or a time a participant proposed',
        expression: 'start',
        reason: 'invalid-value',
      });
    }
    const due = new Date(Date.parse(slot.start) - meeting.reminderMinutes * 60_000);
    const reminderAt = due.getTime() > now.getTime() ? due : null;
    const update = meeting.status === 'booked' ? 'changed' : 'confirmed';
    const version = await bookMeeting(tx, id, slot, reminderAt);
    const booked = (await getMeeting(tx, id)) ?? meeting;
    await sendToAll(tx, context(deps, now), booked, { kind: 'update', update }, client);
    return { booked, version, reminderAt, previous: meeting.version };
  });
  deps.onAccepted();
  await deps.reminders?.cancel(id, result.previous).catch(() => undefined);
  if (result.reminderAt) {
    // The row is the record; a reminder Redis misses now is re-added by the reconcile pass.
    await deps.reminders?.schedule(id, result.version, result.reminderAt).catch((e: unknown) => {
      deps.logger.warn({ err: { message: (e as Error).message }, meetingId: id }, 'reminder not scheduled yet');
    });
  }
  return meetingView(result.booked, client);
}

export async function cancelMeeting(deps: MeetingDeps, client: GatewayClient, id: string) {
  const result = await deps.db.transaction(async (tx) => {
    const meeting = organised(await visibleMeeting(tx, client, id, true), client);
    open(meeting);
    await setMeetingStatus(tx, id, 'cancelled');
    const cancelled = (await getMeeting(tx, id)) ?? meeting;
    await sendToAll(tx, context(deps, new Date()), cancelled, { kind: 'update', update: 'cancelled' }, client);
    return { cancelled, previous: meeting.version };
  });
  deps.onAccepted();
  await deps.reminders?.cancel(id, result.previous).catch(() => undefined);
  return meetingView(result.cancelled, client);
}

/** After the meeting: the agreed plan to every invited participant (minimised for the municipality). */
export async function recordPlan(deps: MeetingDeps, client: GatewayClient, id: string, body: unknown) {
  assertValidBody('PlanningMeetingPlan', body);
  const input = body as { heldAt?: string; items: PlanItem[] };
  const now = new Date();
  const result = await deps.db.transaction(async (tx) => {
    const meeting = organised(await visibleMeeting(tx, client, id, true), client);
    if (meeting.status !== 'booked' || !meeting.booked) {
      throw errors.conflict({
        diagnostics: `planning meeting ${id} is ${meeting.status}: a plan is recorded once, after a booked meeting`,
        reason: 'invalid-transition',
      });
    }
    const plan: MeetingPlan = { heldAt: input.heldAt ?? meeting.booked.start, items: input.items };
    await setMeetingStatus(tx, id, 'fulfilled', plan);
    const held = (await getMeeting(tx, id)) ?? meeting;
    const ctx = context(deps, now);
    for (const p of held.participants) {
      if (!p.endpoint) {
        continue;
      }
      const audience: PlanAudience = p.role === 'caseworker' ? 'municipality' : 'health';
      // Consent again for the plan: a permission withdrawn since the invitation stops it here.
      const decision = await deps.guard.decide(
        tx,
        held.patientCpr,
        {
          messageKind: MEETING_KIND.plan,
          from: 'health',
          to: audience === 'municipality' ? 'municipality' : 'health',
          recipient: p.party,
          ...meetingDisclosure(p.role),
        },
        now,
      );
      if (!decision.permit) {
        await recordAudit(tx, {
          action: 'refused',
          messageKind: MEETING_KIND.plan,
          messageId: id,
          sender: { clientId: client.id, organization: client.organization },
          recipient: { system: p.party.system, value: p.party.value, name: p.party.name ?? undefined },
          patientCpr: held.patientCpr,
          consent: decision.consent,
          purpose: { system: SYSTEM.actReason, code: meetingDisclosure(p.role).purpose, display: 'planning meeting' },
          dataClasses: meetingDisclosure(p.role).dataClasses,
          reason: `plan not sent: ${decision.reason}`,
        });
        continue;
      }
      await sendMeetingMessage(
        tx,
        ctx,
        held,
        p,
        { kind: 'plan', plan, audience },
        { clientId: client.id, role: client.role },
      );
    }
    return { held, previous: meeting.version };
  });
  deps.onAccepted();
  await deps.reminders?.cancel(id, result.previous).catch(() => undefined);
  return meetingView(result.held, client);
}

export async function readMeeting(deps: MeetingDeps, client: GatewayClient, id: string) {
  return meetingView(await visibleMeeting(deps.db, client, id, false), client);
}

export async function listMeetings(deps: MeetingDeps, client: GatewayClient) {
  const ids = await meetingIdsFor(
    deps.db,
    {
      org: client.organization,
      patientCpr: client.role === 'patient' ? (client.patientCpr ?? 'none') : undefined,
      admin: client.role === 'admin',
    },
    100,
  );
  const out = [];
  for (const id of ids) {
    const m = await getMeeting(deps.db, id);
    if (m && maySee(m, client)) {
      out.push(meetingView(m, client));
    }
  }
  return out;
}

/** Fires a due reminder once (the claim in the database decides), to every invited participant who has not declined. */
export async function fireMeetingReminder(deps: MeetingDeps, meetingId: string, version: number): Promise<void> {
  const sent = await deps.db.transaction(async (tx) => {
    if (!(await claimReminder(tx, meetingId, version))) {
      return false;
    }
    const meeting = await getMeeting(tx, meetingId);
    if (!meeting) {
      return false;
    }
    const ctx = context(deps, new Date());
    for (const p of meeting.participants.filter((x) => x.status !== 'declined')) {
      await sendMeetingMessage(
        tx,
        ctx,
        meeting,
        p,
        { kind: 'update', update: 'reminder' },
        {
          clientId: meeting.organizerClient,
          role: 'hospital',
        },
      );
    }
    return true;
  });
  if (sent) {
    deps.onAccepted();
  }
}

async function sendToAll(
  tx: Queryable,
  ctx: MappingContext,
  meeting: StoredMeeting,
  letter: MeetingLetter,
  client: GatewayClient,
): Promise<void> {
  for (const p of meeting.participants) {
    const messageId = await sendMeetingMessage(tx, ctx, meeting, p, letter, { clientId: client.id, role: client.role });
    if (messageId) {
      await recordMeetingMessage(tx, messageId, meeting.id, p.role);
    }
  }
}

function context(deps: MeetingDeps, now: Date): MappingContext {
  return { now, newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
}

function checkedSlot(s: TimeSlot, at: string, now: Date): TimeSlot {
  const prefix = at ? `${at}.` : '';
  const start = Date.parse(s.start);
  const end = Date.parse(s.end);
  if (!(end > start)) {
    throw errors.invalid({
      diagnostics: `${prefix}end: must be after ${prefix}start`,
      expression: `${prefix}end`,
      reason: 'period-ends-before-start',
    });
  }
  if (start <= now.getTime()) {
    throw errors.invalid({
      diagnostics: `${prefix}start: a planning meeting is in the future`,
      expression: `${prefix}start`,
      reason: 'date-out-of-bounds',
    });
  }
  if (end - start > 8 * 3600_000) {
    throw errors.invalid({
      diagnostics: `${prefix}end: a meeting lasts at most 8 hours`,
      expression: `${prefix}end`,
      reason: 'date-out-of-bounds',
    });
  }
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

function sameSlot(a: TimeSlot, b: TimeSlot): boolean {
  return Date.parse(a.start) === Date.parse(b.start) && Date.parse(a.end) === Date.parse(b.end);
}

function open(meeting: StoredMeeting): void {
  if (meeting.status === 'cancelled' || meeting.status === 'fulfilled') {
    throw errors.conflict({
      diagnostics: `planning meeting ${meeting.id} is ${meeting.status}`,
      reason: 'invalid-transition',
    });
  }
}

function isOrganizer(m: StoredMeeting, client: GatewayClient): boolean {
  return (
    client.role === 'hospital' &&
    m.organizer.system === client.organization.system &&
    m.organizer.value === client.organization.value
  );
}

function organised(m: StoredMeeting, client: GatewayClient): StoredMeeting {
  if (!isOrganizer(m, client)) {
    throw errors.forbidden({
      diagnostics: 'only the organising department books, cancels or records the plan',
      reason: 'not-your-task',
    });
  }
  return m;
}

function ownParticipant(m: StoredMeeting, client: GatewayClient): StoredParticipant | undefined {
  const role = ROLE_OF_CLIENT[client.role];
  return m.participants.find(
    (p) =>
      p.role === role &&
      p.status !== 'not-invited' &&
      (role === 'patient'
        ? client.patientCpr === m.patientCpr && p.party.value === m.patientCpr
        : p.party.system === client.organization.system && p.party.value === client.organization.value),
  );
}

function maySee(m: StoredMeeting, client: GatewayClient): boolean {
  return client.role === 'admin' || isOrganizer(m, client) || ownParticipant(m, client) !== undefined;
}

/** Anyone who is neither organiser, invited participant nor admin gets the same 404 as for an unknown id. */
async function visibleMeeting(db: Queryable, client: GatewayClient, id: string, lock: boolean) {
  const m = isUuid(id) ? await getMeeting(db, id, lock) : undefined;
  if (!m || !maySee(m, client)) {
    throw errors.notFound({ diagnostics: `planning meeting ${id}: not found` });
  }
  return m;
}

/**
 * What a client sees: the meeting, who has answered what, and the Appointment. The organiser (and an operator)
 * also sees who was not invited and why; a jobcentre sees the plan's work and support points only.
 */
export function meetingView(m: StoredMeeting, client: GatewayClient) {
  const full = client.role === 'admin' || isOrganizer(m, client);
  const participants = m.participants.filter((p) => full || p.status !== 'not-invited');
  const ctx: MappingContext = { now: new Date(m.createdAt), newId: randomUUID, gatewayEndpoint: '' };
  const appointment: Appointment = meetingEntries(m, ctx).focus.resource;
  const audience: PlanAudience = client.role === 'jobcentre' ? 'municipality' : 'health';
  return {
    id: m.id,
    status: m.status,
    version: m.version,
    patient: { cpr: m.patientCpr },
    organizer: { system: m.organizer.system, value: m.organizer.value, name: m.organizer.name ?? null },
    timeOptions: m.timeOptions,
    booked: m.booked ?? null,
    onlineLink: m.onlineLink,
    reminder: full ? { minutesBefore: m.reminderMinutes, dueAt: m.reminderDueAt, sentAt: m.reminderSentAt } : undefined,
    participants: participants.map((p) => ({
      role: p.role,
      organization: p.role === 'patient' ? null : { system: p.party.system, value: p.party.value, name: p.party.name },
      status: p.status,
      answeredAt: p.answeredAt,
      answeredVia: p.answeredVia,
      proposed: p.proposed,
      ...(full ? { dialect: p.dialect, notInvitedReason: p.notInvitedReason } : {}),
    })),
    plan: m.plan ? { heldAt: m.plan.heldAt, items: planItemsFor(m.plan, audience) } : null,
    appointment,
  };
}
