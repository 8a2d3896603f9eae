import { UPDATE_DISPLAY } from './planning-meeting-appointment';
import { planItemsFor, type PlanAudience } from './planning-meeting-plan';
import {
  CATEGORY_TEXT,
  ROLE_TEXT,
  participantText,
  slotText,
  type Meeting,
  type MeetingPlan,
  type MeetingUpdate,
} from './planning-meeting-types';

/**
 * The text of a planning-meeting CareCommunication (MedCom category `carecoordination`) for MedCom receivers:
 * the invitation, an update (confirmation, change, cancellation, reminder) or the agreed plan, written out in
 * Danish since CareCommunication carries correspondence as text. A MedCom receiver answers with a reply
 * CareCommunication, or its users answer through POST /planning-meetings/{id}/responses. Pure.
 */
export const MEETING_CARE_COMMUNICATION_CATEGORY = 'carecoordination';

export type MeetingLetter =
  | { kind: 'invitation' }
  | { kind: 'update'; update: MeetingUpdate }
  | { kind: 'plan'; plan: MeetingPlan; audience: PlanAudience };

export function meetingLetter(m: Meeting, letter: MeetingLetter): { topic: string; text: string } {
  const invited = m.participants.filter((p) => p.status !== 'not-invited');
  const who = ['Deltagere:', ...invited.map((p) => `- ${participantText(p)}`)].join('\n');
  const link = `Mødet holdes online: ${m.onlineLink}`;
  const ref = `Mødets id: ${m.id}`;
  if (letter.kind === 'invitation') {
    return {
      topic: 'Invitation til planlægningsmøde før udskrivelse',
      text: [
        `${m.organizer.name ?? 'Hospitalet'} inviterer til et planlægningsmøde før patientens udskrivelse, så plan, medicin og tilbagevenden til arbejde aftales én gang.`,
        'Tidsforslag:',
        ...m.timeOptions.map((s, i) => `${String(i + 1)}. ${slotText(s)}`),
        link,
        who,
        'Svar venligst (deltager / deltager ikke / andet tidspunkt) med et svar på denne meddelelse eller i jeres system.',
        ref,
      ].join('\n'),
    };
  }
  if (letter.kind === 'update') {
    const when = m.booked ? `Tidspunkt: ${slotText(m.booked)}` : undefined;
    return {
      topic: `${UPDATE_DISPLAY[letter.update]}: planlægningsmøde`,
      text: [
        `${UPDATE_DISPLAY[letter.update]} – planlægningsmøde før udskrivelse.`,
        letter.update === 'cancelled' ? 'Mødet holdes ikke.' : when,
        letter.update === 'cancelled' ? undefined : link,
        who,
        ref,
      ]
        .filter((l): l is string => l !== undefined)
        .join('\n'),
    };
  }
  const items = planItemsFor(letter.plan, letter.audience);
  return {
    topic: 'Aftalt plan fra planlægningsmødet',
    text: [
      `Plan aftalt på planlægningsmødet ${letter.plan.heldAt}:`,
      ...items.map(
        (i, n) =>
          `${String(n + 1)}. ${CATEGORY_TEXT[i.category]}: ${i.description} – ansvarlig: ${ROLE_TEXT[i.owner]}${i.due ? `, senest ${i.due}` : ''}`,
      ),
      ref,
    ].join('\n'),
  };
}
