import { randomUUID } from 'node:crypto';
import type { Bundle, Patient } from 'fhir/r4';
import { findOrganizationBySor, findPatientByCpr } from '../directory/directory';
import { errors } from '../errors';
import { storeOutgoingMessage } from '../intake/outgoing-message';
import type { MappingContext } from '../mappers/context';
import { buildCareCommunication } from '../mappers/medcom/care-communication';
import { glnOf } from '../mappers/medcom/gln';
import type { MedComParty, MedComPatient } from '../mappers/medcom/messaging';
import { meetingEntries, updateReason } from '../mappers/planning-meeting-appointment';
import {
  MEETING_CARE_COMMUNICATION_CATEGORY,
  meetingLetter,
  type MeetingLetter,
} from '../mappers/planning-meeting-care-communication';
import { buildMeetingPlan } from '../mappers/planning-meeting-plan';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { insertMessage, type MessageDisclosure } from '../store/messages';
import type { StoredMeeting, StoredParticipant } from './meeting-store';

/**
 * One planning-meeting message to one participant, in the dialect its endpoint takes (decided when the
 * participant was invited, from Endpoint.payloadType): a MedCom CareCommunication (category carecoordination)
 * for a MedCom receiver, else the gateway's own message whose focus is the Appointment (invitation, update) or
 * the CarePlan (the agreed plan). Stored with its delivery and outbox entry in the caller's transaction.
 * A MedCom message needs GLNs and the patient's official name: their absence is a 422 naming it.
 */
/** The message kind of each meeting letter (messages/message-kinds.ts): the kind decides the MessageHeader event. */
export const MEETING_KIND = {
  invitation: 'planning-meeting-invitation',
  update: 'planning-meeting-update',
  plan: 'planning-meeting-plan',
} as const;

/** What the message discloses: to a municipality under the patient's consent for sickness-benefit follow-up. */
export function meetingDisclosure(role: StoredParticipant['role']): MessageDisclosure {
  return role === 'caseworker'
    ? { purpose: 'sickness-benefit-follow-up', dataClasses: ['treatment-plan-outline'] }
    : { purpose: 'TREAT', dataClasses: ['treatment-plan-outline'] };
}

export interface MeetingSender {
  clientId: string;
  role: string;
}

export async function sendMeetingMessage(
  tx: Queryable,
  ctx: MappingContext,
  meeting: StoredMeeting,
  p: StoredParticipant,
  letter: MeetingLetter,
  sender: MeetingSender,
): Promise<string | undefined> {
  if (!p.endpoint || !p.dialect) {
    return undefined;
  }
  const organizerParty = {
    system: meeting.organizer.system,
    value: meeting.organizer.value,
    name: meeting.organizer.name ?? null,
  };
  const to = {
    party: { system: p.party.system, value: p.party.value, name: p.party.name },
    endpoint: p.endpoint,
  };
  if (p.dialect === 'sektorbro') {
    const content =
      letter.kind === 'plan'
        ? buildMeetingPlan(meeting, letter.plan, letter.audience, ctx)
        : meetingEntries(meeting, ctx);
    return storeOutgoingMessage(tx, ctx, {
      kind: MEETING_KIND[letter.kind],
      reason: letter.kind === 'update' ? updateReason(letter.update) : undefined,
      sender: { clientId: sender.clientId, role: sender.role, sector: 'health', party: organizerParty },
      to,
      document: { entries: content.entries, focus: content.focus },
      disclosure: meetingDisclosure(p.role),
      patientCpr: meeting.patientCpr,
    });
  }
  const messageId = randomUUID();
  const messageHeaderId = randomUUID();
  const deliveryId = randomUUID();
  const bundle = await careCommunicationFor(tx, ctx, meeting, p, letter, { messageHeaderId, bundleId: deliveryId });
  await insertMessage(tx, {
    id: messageId,
    kind: MEETING_KIND[letter.kind],
    senderClientId: sender.clientId,
    senderRole: sender.role,
    // Meetings are proposed by hospitals: health care is the sector they come from.
    senderSector: 'health',
    senderOrg: { system: meeting.organizer.system, value: meeting.organizer.value },
    patientCpr: meeting.patientCpr,
    messageHeaderId,
    idempotencyKey: undefined,
    requestHash: messageId,
    response: { id: messageId, status: 'accepted', outcome: { resourceType: 'OperationOutcome', issue: [] } },
    disclosure: meetingDisclosure(p.role),
    deliveries: [
      {
        id: deliveryId,
        recipientSystem: p.party.system,
        recipientSor: p.party.value,
        recipientName: p.party.name ?? undefined,
        endpointAddress: p.endpoint.address,
        connectionType: p.endpoint.connectionType,
        bundle,
      },
    ],
  });
  return messageId;
}

async function careCommunicationFor(
  tx: Queryable,
  ctx: MappingContext,
  meeting: StoredMeeting,
  p: StoredParticipant,
  letter: MeetingLetter,
  ids: { messageHeaderId: string; bundleId: string },
): Promise<Bundle> {
  const senderRow = await findOrganizationBySor(tx, meeting.organizer.value);
  const receiverRow = p.party.system === SYSTEM.sor ? await findOrganizationBySor(tx, p.party.value) : undefined;
  const sender = medcomParty(senderRow?.resource.identifier, meeting.organizer.value, senderRow?.name, 'sender');
  const receiver = medcomParty(receiverRow?.resource.identifier, p.party.value, receiverRow?.name, 'receiver');
  const listed = (await findPatientByCpr(tx, meeting.patientCpr))?.resource;
  const { topic, text } = meetingLetter(meeting, letter);
  const contact = meeting.organizerContact.phone
    ? { system: 'phone' as const, value: meeting.organizerContact.phone }
    : senderRow?.resource.telecom?.find((t) => (t.system === 'phone' || t.system === 'email') && t.value);
  if (!contact?.value) {
    throw errors.unprocessable({
      diagnostics:
        'organizer.phone: a MedCom CareCommunication needs the author contact; give organizer.phone or the department Organization.telecom in the directory',
      expression: 'organizer.phone',
      reason: 'missing-author-contact',
    });
  }
  return buildCareCommunication(
    {
      messageHeaderId: ids.messageHeaderId,
      bundleId: ids.bundleId,
      sender,
      receiver: { ...receiver, endpoint: p.endpoint?.address ?? '' },
      patient: medcomPatient(meeting.patientCpr, listed),
      category: MEETING_CARE_COMMUNICATION_CATEGORY,
      topic,
      text,
      attachments: [],
      author: {
        name: meeting.organizerContact.name,
        role: meeting.organizerContact.role,
        contact: { system: contact.system, value: contact.value },
      },
      writtenAt: ctx.now.toISOString(),
    },
    ctx,
  );
}

function medcomParty(
  identifiers: Parameters<typeof glnOf>[0],
  sor: string,
  name: string | null | undefined,
  role: 'sender' | 'receiver',
): MedComParty {
  const gln = glnOf(identifiers);
  if (!gln) {
    throw errors.unprocessable({
      diagnostics: `Organization.identifier: the ${role} (SOR ${sor}) has no GLN in the directory, which a MedCom CareCommunication needs`,
      expression: 'Organization.identifier',
      reason: 'missing-gln',
    });
  }
  return { sor, gln, name: name ?? undefined };
}

function medcomPatient(cpr: string, listed: Patient | undefined): MedComPatient {
  const names = listed?.name ?? [];
  const name = names.find((n) => n.use === 'official') ?? names.find((n) => n.family || n.given?.length);
  if (!name || (!name.family && !name.given?.length)) {
    throw errors.unprocessable({
      diagnostics: "Patient.name: a MedCom message needs the patient's official name; the directory does not have it",
      expression: 'Patient.name',
      reason: 'missing-patient-name',
    });
  }
  return { cpr, name: { family: name.family, given: name.given } };
}
