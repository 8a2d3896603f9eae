import type { DisclosureRequest, Sector } from './evaluate-consent';

/**
 * The disclosure a document makes: the document kind is its data class, and a clinical document between
 * health-care providers is for the patient's treatment (TREAT). Municipal and employer flows state their
 * own purposes and classes where they are built.
 */
export function disclosureOf(kind: string, from: Sector, to: Sector, recipient: { system: string; value: string }): Omit<DisclosureRequest, 'at'> {
  return { messageKind: kind, from, to, recipient, purpose: 'TREAT', dataClasses: [kind] };
}
