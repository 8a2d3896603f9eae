import { WITHHOLDABLE } from '../mappers/minimise';
import { kindFacts, type MessageKind } from '../messages/message-kinds';
import type { DisclosureRequest, Sector } from './evaluate-consent';

/**
 * The disclosure a message makes when it records none of its own: its kind's data class, for its kind's
 * purpose (messages/message-kinds.ts; TREAT for documents). Between health-care providers the whole document goes; to another sector diagnoses, medication
 * and clinical notes are optional classes that go only where a consent covers them (mappers/minimise.ts).
 */
export function disclosureOf(
  kind: MessageKind,
  from: Sector,
  to: Sector,
  recipient: { system: string; value: string },
): Omit<DisclosureRequest, 'at'> {
  return {
    messageKind: kind,
    from,
    to,
    recipient,
    purpose: kindFacts(kind).purpose,
    dataClasses: [kindFacts(kind).dataClass],
    ...(to === 'health' ? {} : { optionalDataClasses: [...WITHHOLDABLE] }),
  };
}
