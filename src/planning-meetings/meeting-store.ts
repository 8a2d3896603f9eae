import type { ConnectionType } from '../directory/directory';
import type {
  Meeting,
  MeetingPlan,
  MeetingRole,
  MeetingStatus,
  ParticipantStatus,
  TimeSlot,
} from '../mappers/planning-meeting-types';
import { json, type Queryable } from '../store/db';

/** Planning meetings and their participants (migration 014). The database is the record; Redis holds only the reminder job. */
export interface StoredParticipant {
  role: MeetingRole;
  party: { system: string; value: string; name: string | null };
  endpoint: { address: string; connectionType: ConnectionType } | null;
  dialect: 'medcom' | 'sektorbro' | null;
  status: ParticipantStatus;
  notInvitedReason: string | null;
  proposed: TimeSlot | null;
  answeredAt: string | null;
  /** How: an AppointmentResponse, or a reply CareCommunication (read the letter). */
  answeredVia: 'appointment-response' | 'care-communication' | null;
}

export interface StoredMeeting extends Meeting {
  organizerClient: string;
  organizerContact: { name: string; role?: string | undefined; phone?: string | undefined };
  reminderMinutes: number;
  reminderDueAt: string | null;
  reminderSentAt: string | null;
  plan: MeetingPlan | null;
  participants: StoredParticipant[];
  createdAt: string;
}

interface MeetingRow {
  id: string;
  patient_cpr: string;
  organizer_client: string;
  organizer_system: string;
  organizer_value: string;
  organizer_name: string | null;
  organizer_contact: StoredMeeting['organizerContact'];
  status: MeetingStatus;
  time_options: TimeSlot[];
  booked_start: Date | null;
  booked_end: Date | null;
  online_link: string;
  reminder_minutes: number;
  reminder_due_at: Date | null;
  reminder_sent_at: Date | null;
  version: number;
  plan: MeetingPlan | null;
  created_at: Date;
}

interface ParticipantRow {
  meeting_id: string;
  role: MeetingRole;
  party_system: string;
  party_value: string;
  party_name: string | null;
  endpoint_address: string | null;
  connection_type: string | null;
  dialect: 'medcom' | 'sektorbro' | null;
  status: ParticipantStatus;
  not_invited_reason: string | null;
  proposed_start: Date | null;
  proposed_end: Date | null;
  answered_at: Date | null;
  answered_via: 'appointment-response' | 'care-communication' | null;
}

const ROLE_ORDER: readonly MeetingRole[] = ['gp', 'caseworker', 'care-manager', 'patient'];

export async function insertMeeting(tx: Queryable, m: StoredMeeting): Promise<void> {
  await tx.query(
    `INSERT INTO planning_meetings (id, patient_cpr, organizer_client, organizer_system, organizer_value, organizer_name,
       organizer_contact, status, time_options, online_link, reminder_minutes, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, 1)`,
    [
      m.id,
      m.patientCpr,
      m.organizerClient,
      m.organizer.system,
      m.organizer.value,
      m.organizer.name ?? null,
      json(m.organizerContact),
      m.status,
      json(m.timeOptions),
      m.onlineLink,
      m.reminderMinutes,
    ],
  );
  for (const p of m.participants) {
    await tx.query(
      `INSERT INTO planning_meeting_participants (meeting_id, role, party_system, party_value, party_name,
         endpoint_address, connection_type, dialect, status, not_invited_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        m.id,
        p.role,
        p.party.system,
        p.party.value,
        p.party.name,
        p.endpoint?.address ?? null,
        p.endpoint?.connectionType ?? null,
        p.dialect,
        p.status,
        p.notInvitedReason,
      ],
    );
  }
}

/** The meeting with its participants; `forUpdate` locks the meeting row for the caller's transaction. */
export async function getMeeting(db: Queryable, id: string, forUpdate = false): Promise<StoredMeeting | undefined> {
  const rows = await db.query<MeetingRow>(
    `SELECT * FROM planning_meetings WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  const parts = await db.query<ParticipantRow>('SELECT * FROM planning_meeting_participants WHERE meeting_id = $1', [
    id,
  ]);
  return toMeeting(row, parts);
}

function toMeeting(row: MeetingRow, parts: ParticipantRow[]): StoredMeeting {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: row.id,
    patientCpr: row.patient_cpr,
    organizer: { system: row.organizer_system, value: row.organizer_value, name: row.organizer_name },
    organizerClient: row.organizer_client,
    organizerContact: row.organizer_contact,
    status: row.status,
    timeOptions: row.time_options,
    ...(row.booked_start && row.booked_end
      ? { booked: { start: iso(row.booked_start) ?? '', end: iso(row.booked_end) ?? '' } }
      : {}),
    onlineLink: row.online_link,
    version: row.version,
    reminderMinutes: row.reminder_minutes,
    reminderDueAt: iso(row.reminder_due_at),
    reminderSentAt: iso(row.reminder_sent_at),
    plan: row.plan,
    createdAt: iso(row.created_at) ?? '',
    participants: parts
      .sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role))
      .map((p) => ({
        role: p.role,
        party: { system: p.party_system, value: p.party_value, name: p.party_name },
        endpoint:
          p.endpoint_address && p.connection_type
            ? { address: p.endpoint_address, connectionType: p.connection_type as ConnectionType }
            : null,
        dialect: p.dialect,
        status: p.status,
        notInvitedReason: p.not_invited_reason,
        proposed:
          p.proposed_start && p.proposed_end
            ? { start: iso(p.proposed_start) ?? '', end: iso(p.proposed_end) ?? '' }
            : null,
        answeredAt: iso(p.answered_at),
        answeredVia: p.answered_via,
      })),
  };
}

export async function recordAnswer(
  tx: Queryable,
  a: { meetingId: string; role: MeetingRole; status: ParticipantStatus; proposed?: TimeSlot; clientId: string },
): Promise<void> {
  await tx.query(
    `UPDATE planning_meeting_participants SET status = $3, proposed_start = $4, proposed_end = $5, answered_at = now(),
       answered_by_client = $6, answered_via = 'appointment-response' WHERE meeting_id = $1 AND role = $2`,
    [a.meetingId, a.role, a.status, a.proposed?.start ?? null, a.proposed?.end ?? null, a.clientId],
  );
  await tx.query('UPDATE planning_meetings SET updated_at = now() WHERE id = $1', [a.meetingId]);
}

/** Books (or moves) the meeting, schedules its reminder and counts the version up; returns the new version. */
export async function bookMeeting(
  tx: Queryable,
  id: string,
  slot: TimeSlot,
  reminderDueAt: Date | null,
): Promise<number> {
  const rows = await tx.query<{ version: number }>(
    `UPDATE planning_meetings SET status = 'booked', booked_start = $2, booked_end = $3, reminder_due_at = $4,
       reminder_sent_at = NULL, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`,
    [id, slot.start, slot.end, reminderDueAt?.toISOString() ?? null],
  );
  return rows[0]?.version ?? 0;
}

export async function setMeetingStatus(tx: Queryable, id: string, status: MeetingStatus, plan?: MeetingPlan) {
  await tx.query(
    `UPDATE planning_meetings SET status = $2, version = version + 1, reminder_due_at = CASE WHEN $2 = 'booked'
       THEN reminder_due_at ELSE NULL END, plan = COALESCE($3::jsonb, plan), updated_at = now() WHERE id = $1`,
    [id, status, plan ? json(plan) : null],
  );
}

/** Claims a due reminder once: true for the one caller that marks it sent. */
export async function claimReminder(tx: Queryable, id: string, version: number): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE planning_meetings SET reminder_sent_at = now() WHERE id = $1 AND version = $2 AND status = 'booked'
       AND reminder_due_at IS NOT NULL AND reminder_sent_at IS NULL RETURNING id`,
    [id, version],
  );
  return rows.length === 1;
}

/** Reminders not yet sent, for the reconcile pass that re-adds jobs Redis lost. */
export async function pendingReminders(db: Queryable): Promise<Array<{ id: string; version: number; dueAt: Date }>> {
  const rows = await db.query<{ id: string; version: number; reminder_due_at: Date }>(
    `SELECT id, version, reminder_due_at FROM planning_meetings
      WHERE reminder_due_at IS NOT NULL AND reminder_sent_at IS NULL AND status = 'booked'`,
  );
  return rows.map((r) => ({ id: r.id, version: r.version, dueAt: new Date(r.reminder_due_at) }));
}

/**
 * Meeting ids a client may see: those its organisation organises or takes part in (as an invited participant),
 * or, for a patient, those about them. Newest first, at most `limit`.
 */
export async function meetingIdsFor(
  db: Queryable,
  who: { org: { system: string; value: string }; patientCpr?: string | undefined; admin: boolean },
  limit: number,
): Promise<string[]> {
  if (who.admin) {
    const rows = await db.query<{ id: string }>('SELECT id FROM planning_meetings ORDER BY created_at DESC LIMIT $1', [
      limit,
    ]);
    return rows.map((r) => r.id);
  }
  if (who.patientCpr) {
    const rows = await db.query<{ id: string }>(
      'SELECT id FROM planning_meetings WHERE patient_cpr = $1 ORDER BY created_at DESC LIMIT $2',
      [who.patientCpr, limit],
    );
    return rows.map((r) => r.id);
  }
  const rows = await db.query<{ id: string }>(
    `SELECT m.id FROM planning_meetings m WHERE (m.organizer_system = $1 AND m.organizer_value = $2)
        OR EXISTS (SELECT 1 FROM planning_meeting_participants p WHERE p.meeting_id = m.id AND p.party_system = $1
                   AND p.party_value = $2 AND p.status <> 'not-invited')
      ORDER BY m.created_at DESC LIMIT $3`,
    [who.org.system, who.org.value, limit],
  );
  return rows.map((r) => r.id);
}

/** The meetings about a patient to which this organisation is invited (for the care manager's work list). */
export async function meetingsWithParticipant(
  db: Queryable,
  patientCpr: string,
  party: { system: string; value: string },
): Promise<Array<{ id: string; status: MeetingStatus; booked: string | null }>> {
  const rows = await db.query<{ id: string; status: MeetingStatus; booked_start: Date | null }>(
    `SELECT m.id, m.status, m.booked_start FROM planning_meetings m JOIN planning_meeting_participants p
        ON p.meeting_id = m.id AND p.party_system = $2 AND p.party_value = $3 AND p.status <> 'not-invited'
      WHERE m.patient_cpr = $1 ORDER BY m.created_at DESC LIMIT 10`,
    [patientCpr, party.system, party.value],
  );
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    booked: r.booked_start ? new Date(r.booked_start).toISOString() : null,
  }));
}
