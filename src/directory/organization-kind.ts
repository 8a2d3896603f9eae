import type { Organization } from 'fhir/r4';
import { SYSTEM } from '../mappers/systems';

/**
 * What kind of organisation a directory entry is, in HL7's organization-type codes
 * (http://terminology.hl7.org/CodeSystem/organization-type, the binding of R4 Organization.type):
 * - `prov` a health-care provider: a GP practice, a hospital department, a municipal home-care or home-nursing unit
 *   (every unit in SOR, Sundhedsvæsenets Organisationsregister, is one);
 * - `govt` a government body outside health care: the municipal jobcentre;
 * - `bus` a business: an employer by CVR.
 * Why it matters: a municipality code (dk-core municipality codes) names a municipality, not one of its units, and the
 * jobcentre and the municipality's home-care unit may both carry it. A lookup by such an identifier says which kind
 * it wants, and two matches of the same kind are a directory error the gateway refuses rather than guesses.
 */
export type OrganizationKind = 'prov' | 'govt' | 'bus';

export const ORGANIZATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/organization-type';

const KINDS: readonly string[] = ['prov', 'govt', 'bus'];

/**
 * The kind of an organisation: its Organization.type coding in ORGANIZATION_TYPE_SYSTEM where the directory gives
 * one, else inferred from its identifiers: a SOR code makes it a health-care provider (SOR registers health-care
 * units only, the municipal care units among them), else a municipality code a government body, else a CVR number a
 * business. Undefined when nothing says.
 */
export function kindOfOrganization(org: Organization): OrganizationKind | undefined {
  const coded = org.type
    ?.flatMap((t) => t.coding ?? [])
    .find((c) => c.system === ORGANIZATION_TYPE_SYSTEM && KINDS.includes(c.code ?? ''))?.code;
  if (coded) {
    return coded as OrganizationKind;
  }
  const systems = (org.identifier ?? []).map((i) => i.system);
  if (systems.includes(SYSTEM.sor)) {
    return 'prov';
  }
  if (systems.includes(SYSTEM.municipality)) {
    return 'govt';
  }
  return systems.includes(SYSTEM.cvr) ? 'bus' : undefined;
}

/**
 * The kind of organisation an identifier system addresses when nothing else says: a SOR code a health-care unit,
 * a municipality code the jobcentre (the gateway's only municipal addressee by that code; a municipal care unit is
 * addressed by SOR or by its directory id), a CVR number an employer. Undefined for other systems (GLN, local ids).
 */
export function kindAddressedBy(system: string): OrganizationKind | undefined {
  switch (system) {
    case SYSTEM.sor:
      return 'prov';
    case SYSTEM.municipality:
      return 'govt';
    case SYSTEM.cvr:
      return 'bus';
    default:
      return undefined;
  }
}
