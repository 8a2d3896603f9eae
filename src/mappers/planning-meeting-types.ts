/**
 * The planning meeting before discharge (issue 18, item 1) as the mappers see it: plain values the service
 * has checked and stored. Times are ISO 8601 instants with a zone; identifiers are SOR (health care), the
 * dk-core municipality code (the jobcentre) or CPR (the patient).
 */
export type MeetingRole = 'gp' | 'caseworker' | 'care-manager' | 'patient';
export const MEETING_ROLES: readonly MeetingRole[] = ['gp', 'caseworker', 'care-manager', 'patient'];

/** Appointment.status values the meeting goes through. */
export type MeetingStatus = 'proposed' | 'booked' | 'cancelled' | 'fulfilled';

/** Appointment.participant.status (participationstatus), plus not-invited for a wanted party left out. */
export type ParticipantStatus = 'needs-action' | 'accepted' | 'declined' | 'tentative' | 'not-invited';

export interface TimeSlot {
  readonly start: string;
  readonly end: string;
}

export interface MeetingParty {
  readonly system: string;
  readonly value: string;
  readonly name?: string | null | undefined;
}

export interface MeetingParticipant {
  readonly role: MeetingRole;
  readonly party: MeetingParty;
  readonly status: ParticipantStatus;
  /** Another time the participant proposed (AppointmentResponse.start/end with status tentative). */
  readonly proposed?: TimeSlot | null | undefined;
  /** Why a wanted participant was not invited (no consent, no own GP, no endpoint...). */
  readonly notInvitedReason?: string | null | undefined;
}

export interface Meeting {
  readonly id: string;
  readonly patientCpr: string;
  readonly organizer: MeetingParty;
  readonly status: MeetingStatus;
  readonly timeOptions: readonly TimeSlot[];
  /** The booked time, once the organiser has confirmed one. */
  readonly booked?: TimeSlot | undefined;
  readonly onlineLink: string;
  /** Counts every confirmation, change and cancellation: receivers keep the highest. */
  readonly version: number;
  readonly participants: readonly MeetingParticipant[];
}

/** Why an update message goes out (CodeSystem sektorbro-planning-meeting-update). */
export type MeetingUpdate = 'confirmed' | 'changed' | 'cancelled' | 'reminder';

/** One agreed point of the plan after the meeting (checked by the service against openapi's PlanningMeetingPlan). */
export type PlanCategory = 'medication' | 'follow-up' | 'work' | 'support';
export type PlanOwner = 'hospital' | MeetingRole;

export interface PlanItem {
  readonly category: PlanCategory;
  readonly description: string;
  readonly owner: PlanOwner;
  /** A date (YYYY-MM-DD) by which it is done, where agreed. */
  readonly due?: string | undefined;
}

export interface MeetingPlan {
  readonly heldAt: string;
  readonly items: readonly PlanItem[];
}

/**
 * What a municipality may get of the plan: the points about work and practical support, never medication or
 * treatment follow-up (data classes medication and clinical-notes, which the jobcentre's consent for the
 * planning meeting does not cover).
 */
export const MUNICIPAL_PLAN_CATEGORIES: readonly PlanCategory[] = ['work', 'support'];

export const ROLE_TEXT: Record<PlanOwner | 'organizer', string> = {
  organizer: 'Hospital (indkalder)',
  hospital: 'Hospitalet',
  gp: 'Egen læge',
  caseworker: 'Kommunal sagsbehandler',
  'care-manager': 'Care manager',
  patient: 'Patienten',
};

export const CATEGORY_TEXT: Record<PlanCategory, string> = {
  medication: 'Medicin',
  'follow-up': 'Opfølgning',
  work: 'Arbejde og forsørgelse',
  support: 'Støtte og hverdag',
};

const STATUS_TEXT: Record<ParticipantStatus, string> = {
  'needs-action': 'har ikke svaret',
  accepted: 'deltager',
  declined: 'deltager ikke',
  tentative: 'foreslår et andet tidspunkt',
  'not-invited': 'ikke inviteret',
};

/** "2026-12-10T09:00:00.000Z" shown in Danish time with its offset, as a receiver reads it. */
export function slotText(slot: TimeSlot): string {
  return `${slot.start} – ${slot.end}`;
}

export function participantText(p: MeetingParticipant): string {
  const proposed = p.status === 'tentative' && p.proposed ? ` (${slotText(p.proposed)})` : '';
  return `${ROLE_TEXT[p.role]}${p.party.name ? `, ${p.party.name}` : ''}: ${STATUS_TEXT[p.status]}${proposed}`;
}
