import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import type { ClinicalDocument } from '../../src/mappers/clinical-document';
import type { NativeDischargeLetter } from '../../src/mappers/native-types';
import type { NativeSickLeaveCertificate } from '../../src/mappers/sick-leave/types';
import { GP_SOR } from './directory-fixture';

/** A fresh copy of the native discharge-letter fixture, free to change in a test. */
export function nativeLetter(): NativeDischargeLetter & Record<string, unknown> {
  return JSON.parse(
    readFileSync(join(__dirname, '../fixtures/discharge-letter.native.json'), 'utf8'),
  ) as NativeDischargeLetter & Record<string, unknown>;
}

/** A mapped document as the FHIR document Bundle a FHIR-speaking EHR would send. */
export function asDocumentBundle(doc: ClinicalDocument): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c5d3d8e-6f41-4a59-9d0b-6c1f0e2f9a11' },
    timestamp: '2026-11-20T10:00:00Z',
    entry: doc.entries.map((e) => ({ fullUrl: e.fullUrl, resource: structuredClone(e.resource) })),
  };
}

/**
 * A first, partial sick-leave certificate from the test GP whose free text names the diagnosis, so the views
 * that must not show it can be checked. `from` and `expectedTo` are dates (YYYY-MM-DD).
 */
export function sickLeaveCertificate(
  cpr: string,
  period: { from: string; expectedTo: string },
  extra: Partial<NativeSickLeaveCertificate> = {},
): NativeSickLeaveCertificate {
  return {
    patient: { cpr, name: { given: ['Mette'], family: 'Jensen' } },
    kind: 'first',
    period,
    incapacity: { degree: 'partial', hoursPerWeek: 15 },
    limitations: 'Kan ikke arbejde under tidspres; Moderat depressiv enkeltepisode gør koncentration svær.',
    canDo: 'Kan udføre rolige opgaver 3 timer om dagen.',
    gradualReturn: 'Start med 3 timer dagligt uden kundekontakt.',
    diagnosis: { code: 'F32.1', display: 'Moderat depressiv enkeltepisode' },
    clinicalNote: 'Samtaleterapi; sertralin startet.',
    issuedBy: { name: 'Lise Hansen', organization: { sor: GP_SOR, name: 'Lægerne i Testby' } },
    ...extra,
  };
}
