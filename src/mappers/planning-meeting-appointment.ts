import type { Appointment, Organization, Patient } from 'fhir/r4';
import type { MappingContext } from './context';
import { narrative } from './narrative';
import { PROFILE, entry, ref, type Entry } from './native-parts';
import {
  ROLE_TEXT,
  participantText,
  slotText,
  type Meeting,
  type MeetingParty,
  type MeetingUpdate,
} from './planning-meeting-types';
import { CANONICAL_BASE, SYSTEM } from './systems';

/**
 * The planning meeting as a FHIR R4 Appointment (profile sektorbro-planning-meeting-appointment), for receivers
 * that take the gateway's own messages: `status` proposed → booked → cancelled | fulfilled; while proposed the
 * time options are `requestedPeriod`, once booked `start`/`end`; one participant per invited party with its
 * answer (participationstatus) and role (CodeSystem sektorbro-planning-meeting-role); the online link in the
 * extension planning-meeting-online-link. Appointment.id is the meeting id, so an AppointmentResponse names
 * `Appointment/<id>`. Pure.
 */
export const APPOINTMENT_PROFILE = `${CANONICAL_BASE}/StructureDefinition/sektorbro-planning-meeting-appointment`;
export const MEETING_ROLE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/sektorbro-planning-meeting-role`;
export const MEETING_UPDATE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/sektorbro-planning-meeting-update`;
export const ONLINE_LINK_EXTENSION = `${CANONICAL_BASE}/StructureDefinition/planning-meeting-online-link`;
export const MEETING_ID_SYSTEM = `${CANONICAL_BASE}/NamingSystem/planning-meeting-id`;

export const UPDATE_DISPLAY: Record<MeetingUpdate, string> = {
  confirmed: 'Mødetidspunkt bekræftet',
  changed: 'Mødetidspunkt ændret',
  cancelled: 'Mødet er aflyst',
  reminder: 'Påmindelse om møde',
};

export function meetingEntries(m: Meeting, ctx: MappingContext): { focus: Entry<Appointment>; entries: Entry[] } {
  const patient = entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [PROFILE.patient] },
    text: narrative('Patient', `CPR ${m.patientCpr}`),
    identifier: [{ system: SYSTEM.cpr, value: m.patientCpr }],
  });
  const organization = (p: MeetingParty) =>
    entry<Organization>({
      resourceType: 'Organization',
      id: ctx.newId(),
      text: narrative(p.name ?? p.value),
      identifier: [{ system: p.system, value: p.value }],
      ...(p.name ? { name: p.name } : {}),
    });
  const organizer = organization(m.organizer);
  const invited = m.participants.filter((p) => p.status !== 'not-invited');
  const orgs = new Map<string, Entry<Organization>>();
  const participant: Appointment['participant'] = [
    {
      type: [{ coding: [{ system: MEETING_ROLE_SYSTEM, code: 'organizer', display: ROLE_TEXT.organizer }] }],
      actor: ref(organizer, m.organizer.name ?? undefined),
      required: 'required',
      status: 'accepted',
    },
  ];
  for (const p of invited) {
    let actor = patient;
    if (p.role !== 'patient') {
      const key = `${p.party.system}|${p.party.value}`;
      const org = orgs.get(key) ?? organization(p.party);
      orgs.set(key, org);
      actor = org as unknown as Entry<Patient>;
    }
    participant.push({
      type: [{ coding: [{ system: MEETING_ROLE_SYSTEM, code: p.role, display: ROLE_TEXT[p.role] }] }],
      actor: ref(actor, p.party.name ?? undefined),
      required: p.role === 'patient' ? 'required' : 'optional',
      status: p.status === 'not-invited' ? 'needs-action' : p.status,
    });
  }
  const when =
    m.booked !== undefined
      ? { start: m.booked.start, end: m.booked.end }
      : { requestedPeriod: m.timeOptions.map((s) => ({ start: s.start, end: s.end })) };
  const appointment = entry<Appointment>({
    resourceType: 'Appointment',
    id: m.id,
    meta: { profile: [APPOINTMENT_PROFILE], versionId: String(m.version) },
    text: narrative(
      `Planlægningsmøde før udskrivelse (${m.status})`,
      m.booked ? `Tidspunkt: ${slotText(m.booked)}` : `Tidsforslag: ${m.timeOptions.map(slotText).join('; ')}`,
      `Online: ${m.onlineLink}`,
      ...invited.map(participantText),
    ),
    extension: [{ url: ONLINE_LINK_EXTENSION, valueUrl: m.onlineLink }],
    identifier: [{ system: MEETING_ID_SYSTEM, value: m.id }],
    status: m.status,
    serviceCategory: [{ text: 'Udskrivningskoordinerende planlægningsmøde (psykiatri, egen læge, kommune, patient)' }],
    description: 'Planlægningsmøde før udskrivelse',
    ...when,
    created: ctx.now.toISOString().slice(0, 10),
    participant,
  });
  return { focus: appointment, entries: [appointment, patient, organizer, ...orgs.values()] };
}

/** The update's reason, for MessageHeader.reason of a planning-meeting-update. */
export function updateReason(update: MeetingUpdate): { system: string; code: string; display: string } {
  return { system: MEETING_UPDATE_SYSTEM, code: update, display: UPDATE_DISPLAY[update] };
}
