import type { ClinicalDocument } from '../clinical-document';
import type { MappingContext } from '../context';
import { readDocumentBundle } from '../document-bundle';

/** Any FHIR document Bundle for "send to own GP". */
export function mapFhirClinicalDocument(bundle: unknown, ctx: MappingContext): ClinicalDocument {
  return readDocumentBundle(bundle, ctx, 'clinical-document');
}
