import type {
  BundleEntry,
  ContactPoint,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Resource,
} from 'fhir/r4';
import type { MappingContext } from './context';
import type { NativeAuthor, NativeOrganization, NativePatient } from './native-types';
import { narrative } from './narrative';
import { CANONICAL_BASE, SYSTEM } from './systems';

/** Building blocks shared by the native-JSON mappers: patient, author and organisations as FHIR resources. */
export type Entry<T extends Resource = Resource> = BundleEntry & { fullUrl: string; resource: T };

export const PROFILE = {
  patient: `${CANONICAL_BASE}/StructureDefinition/sektorbro-patient`,
  dischargeLetter: `${CANONICAL_BASE}/StructureDefinition/sektorbro-discharge-letter`,
  clinicalDocument: `${CANONICAL_BASE}/StructureDefinition/sektorbro-clinical-document`,
  messageHeader: `${CANONICAL_BASE}/StructureDefinition/sektorbro-message-header`,
  message: `${CANONICAL_BASE}/StructureDefinition/sektorbro-message`,
  medicationStatement: `${CANONICAL_BASE}/StructureDefinition/sektorbro-medication-statement`,
} as const;

export function entry<T extends Resource>(resource: T): Entry<T> {
  return { fullUrl: `urn:uuid:${resource.id ?? ''}`, resource };
}

export function ref(e: Entry, display?: string): { reference: string; display?: string } {
  return display ? { reference: e.fullUrl, display } : { reference: e.fullUrl };
}

export function patientEntry(p: NativePatient, ctx: MappingContext): Entry<Patient> {
  const name = p.name
    ? [{ ...(p.name.family ? { family: p.name.family } : {}), ...(p.name.given ? { given: p.name.given } : {}) }]
    : undefined;
  const display = [p.name?.given?.join(' '), p.name?.family].filter(Boolean).join(' ');
  return entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [PROFILE.patient] },
    text: narrative(`Patient${display ? `: ${display}` : ''}`, `CPR ${p.cpr}`),
    identifier: [{ system: SYSTEM.cpr, value: p.cpr }],
    ...(name ? { name } : {}),
  });
}

export function organizationEntry(
  o: NativeOrganization,
  ctx: MappingContext,
  telecom: ContactPoint[] = [],
): Entry<Organization> {
  return entry<Organization>({
    resourceType: 'Organization',
    id: ctx.newId(),
    text: narrative(
      o.name ?? 'Organisation',
      `SOR ${o.sor}`,
      ...telecom.map((t) => `${t.system ?? ''}: ${t.value ?? ''}`),
    ),
    identifier: [{ system: SYSTEM.sor, value: o.sor }],
    ...(o.name ? { name: o.name } : {}),
    ...(telecom.length ? { telecom } : {}),
  });
}

export interface AuthorEntries {
  practitioner: Entry<Practitioner>;
  role: Entry<PractitionerRole>;
  organization: Entry<Organization>;
}

/** The author as Practitioner + PractitionerRole at their organisation (reusing an organisation already made). */
export function authorEntries(
  a: NativeAuthor,
  ctx: MappingContext,
  knownOrganizations: Array<Entry<Organization>> = [],
): AuthorEntries {
  const practitioner = entry<Practitioner>({
    resourceType: 'Practitioner',
    id: ctx.newId(),
    text: narrative(`${a.name}${a.role ? `, ${a.role}` : ''}`),
    name: [{ text: a.name }],
  });
  const organization =
    knownOrganizations.find((o) =>
      o.resource.identifier?.some((i) => i.system === SYSTEM.sor && i.value === a.organization.sor),
    ) ?? organizationEntry(a.organization, ctx);
  const role = entry<PractitionerRole>({
    resourceType: 'PractitionerRole',
    id: ctx.newId(),
    text: narrative(`${a.name}${a.role ? `, ${a.role}` : ''} at ${a.organization.name ?? `SOR ${a.organization.sor}`}`),
    practitioner: ref(practitioner, a.name),
    organization: ref(organization, a.organization.name),
    ...(a.role ? { code: [{ text: a.role }] } : {}),
  });
  return { practitioner, role, organization };
}

export function telecomOf(c: { phone?: string | undefined; email?: string | undefined }): ContactPoint[] {
  return [
    ...(c.phone ? [{ system: 'phone' as const, value: c.phone, use: 'work' as const }] : []),
    ...(c.email ? [{ system: 'email' as const, value: c.email, use: 'work' as const }] : []),
  ];
}

/** Distinct entries by fullUrl, first wins (an organisation can be author's and custodian at once). */
export function distinct(entries: Entry[]): Entry[] {
  const seen = new Set<string>();
  return entries.filter((e) => (seen.has(e.fullUrl) ? false : (seen.add(e.fullUrl), true)));
}
