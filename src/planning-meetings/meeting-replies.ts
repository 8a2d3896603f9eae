import type { Queryable } from '../store/db';

/**
 * Messages sent about a planning meeting, and a MedCom participant's reply to one of them: a reply
 * CareCommunication (Provenance reply-message naming the invitation or an update) posted to $process-message
 * is routed to the organising department like every reply, and here recorded as that participant's answer
 * (answered, by letter), since CareCommunication carries free text and no participation status: the organiser
 * reads the letter and books accordingly. Only the participant the message went to counts: the reply's sender
 * must be that participant's organisation.
 */
export async function recordMeetingMessage(tx: Queryable, messageId: string, meetingId: string, role: string) {
  await tx.query('INSERT INTO planning_meeting_messages (message_id, meeting_id, role) VALUES ($1, $2, $3)', [
    messageId,
    meetingId,
    role,
  ]);
}

/** Returns the meeting id when the answered message was one of a meeting's and the sender is its participant. */
export async function noteMeetingReply(
  tx: Queryable,
  answeredMessageId: string,
  sender: { system: string; value: string },
  clientId: string,
): Promise<string | undefined> {
  const rows = await tx.query<{ meeting_id: string }>(
    `UPDATE planning_meeting_participants p SET answered_at = now(), answered_via = 'care-communication',
            answered_by_client = $4
       FROM planning_meeting_messages m
      WHERE m.message_id = $1 AND p.meeting_id = m.meeting_id AND p.role = m.role
        AND p.party_system = $2 AND p.party_value = $3
      RETURNING p.meeting_id`,
    [answeredMessageId, sender.system, sender.value, clientId],
  );
  return rows[0]?.meeting_id;
}
