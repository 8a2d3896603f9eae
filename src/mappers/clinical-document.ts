import type { BundleEntry, Composition, Resource } from 'fhir/r4';

/**
 * What every document mapper returns: the document's resources as Bundle entries (Composition first, each
 * with an id and a narrative), plus the facts intake needs to route it without digging into FHIR.
 */
export interface ClinicalDocument {
  kind: 'discharge-letter' | 'clinical-document';
  composition: Composition;
  /** Every resource of the document as entries with fullUrl; references between them use these fullUrls. */
  entries: Array<BundleEntry & { fullUrl: string; resource: Resource }>;
  patientCpr: string;
  /** SOR of Patient.generalPractitioner when the input names one. */
  generalPractitionerSor?: string | undefined;
  /** Explicit addressee from the input. */
  recipientSor?: string | undefined;
  authorOrganizationSor?: string | undefined;
  title: string;
}

export function compositionEntry(doc: ClinicalDocument): BundleEntry & { fullUrl: string } {
  const entry = doc.entries.find((e) => e.resource === doc.composition) ?? doc.entries[0];
  if (!entry) {
    throw new Error('a clinical document without entries');
  }
  return entry;
}
