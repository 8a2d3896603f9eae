import { UnmappableInput } from '../unmappable-input';
import type { ClinicalDocument } from '../clinical-document';
import type { MappingContext } from '../context';
import { readDocumentBundle } from '../document-bundle';
import { DISCHARGE_SUMMARY_LOINC, SYSTEM } from '../systems';

/** A FHIR discharge-summary document Bundle → the gateway's ClinicalDocument (the sender's resources kept). */
export function mapFhirDischargeDocument(bundle: unknown, ctx: MappingContext): ClinicalDocument {
  const doc = readDocumentBundle(bundle, ctx, 'discharge-letter');
  const codes = (doc.composition.type.coding ?? []).filter((c) => c.system === SYSTEM.loinc).map((c) => c.code);
  if (!codes.some((c) => (DISCHARGE_SUMMARY_LOINC as readonly (string | undefined)[]).includes(c))) {
    throw new UnmappableInput({
      diagnostics: `Composition.type: a discharge letter needs a LOINC discharge-summary code (${DISCHARGE_SUMMARY_LOINC.join(', ')}); got ${codes.join(', ') || 'none'}. Other documents go to POST /send-to-own-gp`,
      expression: 'Bundle.entry[0].resource.type',
    });
  }
  return doc;
}
