import { WITHHOLDABLE } from '../mappers/minimise';
import type { DisclosureRequest, Sector } from './evaluate-consent';

/**
 * The disclosure a document makes: the document kind is its data class, for the patient's treatment
 * (TREAT). Between health-care providers the whole document goes; to another sector diagnoses, medication
 * and clinical notes are optional classes that go only where a consent covers them (mappers/minimise.ts).
 */
export function disclosureOf(kind: string, from: Sector, to: Sector, recipient: { system: string; value: string }): Omit<DisclosureRequest, 'at'> {
  return {
    messageKind: kind,
    from,
    to,
    recipient,
    purpose: 'TREAT',
    dataClasses: [kind],
    ...(to === 'health' ? {} : { optionalDataClasses: [...WITHHOLDABLE] }),
  };
}
