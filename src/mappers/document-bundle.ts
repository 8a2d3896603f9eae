import type { Bundle, Composition, Organization, Patient, Reference, Resource } from 'fhir/r4';
import { UnmappableInput } from './unmappable-input';
import { cloneJson } from '../json/json-text';
import type { ClinicalDocument } from './clinical-document';
import type { MappingContext } from './context';
import { narrative } from './narrative';
import type { Entry } from './native-parts';
import { SYSTEM } from './systems';

/**
 * Reads a FHIR `document` Bundle as the sender wrote it. The sender's resources are kept (nothing clinical
 * is dropped); only what the gateway needs is added: an id on every resource and a narrative where missing.
 * References resolve by fullUrl (absolute or urn:uuid) and by relative Type/id, as the Bundle rules say.
 */
export function readDocumentBundle(
  input: unknown,
  ctx: MappingContext,
  kind: ClinicalDocument['kind'],
): ClinicalDocument {
  const bundle = input as Partial<Bundle> | null;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw new UnmappableInput({
      diagnostics: 'resourceType: expected a FHIR Bundle of type document',
      expression: 'Bundle',
    });
  }
  if (bundle.type !== 'document') {
    throw new UnmappableInput({
      diagnostics: `Bundle.type: expected "document", got "${String(bundle.type)}"`,
      expression: 'Bundle.type',
    });
  }
  const first = bundle.entry?.[0]?.resource;
  if (first?.resourceType !== 'Composition') {
    throw new UnmappableInput({
      diagnostics: 'Bundle.entry[0].resource: the first entry of a document must be its Composition',
      expression: 'Bundle.entry[0].resource',
    });
  }
  const entries: Entry[] = (bundle.entry ?? []).map((e) => {
    const resource = cloneJson(e.resource) as Resource; // keeps decimals as written
    resource.id ??= idFromFullUrl(e.fullUrl) ?? ctx.newId();
    if (!('text' in resource) || !(resource as { text?: unknown }).text) {
      (resource as { text?: unknown }).text = narrative(
        `${resource.resourceType} (supplied without narrative by the sender)`,
      );
    }
    return { fullUrl: e.fullUrl ?? `urn:uuid:${resource.id}`, resource };
  });
  const composition = (entries[0] as Entry).resource as Composition;
  const resolve = resolver(entries);
  const patient = resolve(composition.subject, 'Patient') as Patient | undefined;
  if (!patient) {
    throw new UnmappableInput({
      diagnostics: 'Composition.subject: must reference a Patient inside the Bundle',
      expression: 'Bundle.entry[0].resource.subject',
    });
  }
  const cpr = patient.identifier?.find((i) => i.system === SYSTEM.cpr)?.value;
  if (!cpr) {
    throw new UnmappableInput({
      diagnostics: `Patient.identifier: the patient needs a CPR number (system ${SYSTEM.cpr})`,
      expression: 'Patient.identifier',
    });
  }
  if (!/^[0-9]{10}$/.test(cpr)) {
    throw new UnmappableInput({
      diagnostics: 'Patient.identifier: a CPR number has 10 digits, without a dash',
      expression: 'Patient.identifier',
    });
  }
  const gpSor = generalPractitionerSor(patient, resolve);
  const custodian = resolve(composition.custodian, 'Organization') as Organization | undefined;
  return {
    kind,
    composition,
    entries,
    patientCpr: cpr,
    generalPractitionerSor: gpSor,
    authorOrganizationSor: custodian?.identifier?.find((i) => i.system === SYSTEM.sor)?.value,
    title: composition.title,
  };
}

function idFromFullUrl(fullUrl: string | undefined): string | undefined {
  const tail = fullUrl
    ?.replace(/^urn:uuid:/, '')
    .split('/')
    .pop();
  return tail && /^[A-Za-z0-9\-.]{1,64}$/.test(tail) ? tail : undefined;
}

type Resolve = (ref: Reference | undefined, type: string) => Resource | undefined;

function resolver(entries: Entry[]): Resolve {
  return (ref, type) => {
    const reference = ref?.reference;
    if (!reference) {
      return undefined;
    }
    const hit = entries.find(
      (e) =>
        e.fullUrl === reference ||
        `${e.resource.resourceType}/${e.resource.id ?? ''}` === reference ||
        e.fullUrl.endsWith(`/${reference}`),
    );
    return hit?.resource.resourceType === type ? hit.resource : undefined;
  };
}

function generalPractitionerSor(patient: Patient, resolve: Resolve): string | undefined {
  for (const gp of patient.generalPractitioner ?? []) {
    if (gp.identifier?.system === SYSTEM.sor && gp.identifier.value) {
      return gp.identifier.value;
    }
    const org = resolve(gp, 'Organization') as Organization | undefined;
    const sor = org?.identifier?.find((i) => i.system === SYSTEM.sor)?.value;
    if (sor) {
      return sor;
    }
  }
  return undefined;
}
