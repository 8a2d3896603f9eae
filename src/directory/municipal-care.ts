import type { Patient, Reference } from 'fhir/r4';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { findOrganizationById, findOrganizationByIdentifier, type OrganizationRow } from './directory';

/**
 * Whether the directory says a patient receives municipal care, and from whom: the Patient extension
 * `municipal-care` (profiles/StructureDefinition-municipal-care.json), one per service, with
 * - `service` (valueCoding, sektorbro-municipal-care-service: hjemmepleje | hjemmesygepleje),
 * - `provider` (valueReference to the Organization of the municipality's care unit, by `Organization/<id>` or by
 *   its SOR identifier; MedCom's HospitalNotification goes to that unit, e.g. "Plejecenter Herlev" in MedCom's
 *   examples, which has SOR and GLN like any MedCom receiver),
 * - `period` (valuePeriod, optional): when the care is given; outside it the patient does not receive it.
 * MedCom's HospitalNotification 3.0 exists to tell this unit that its citizen is admitted or discharged, so it
 * can pause and resume its services. The patient's home municipality itself is dk-core's municipalityCodes
 * extension on Patient.address; receiving care is the fact the notification needs, so it is recorded apart.
 */
export interface MunicipalCare {
  service: string | undefined;
  provider: Reference;
}

/** The patient's municipal care as of `at` (ISO dates and date-times compared as the period's bounds allow). */
export function municipalCareOf(patient: Patient | undefined, at: Date): MunicipalCare[] {
  const day = at.toISOString();
  return (patient?.extension ?? [])
    .filter((e) => e.url === SYSTEM.municipalCare)
    .flatMap((e) => {
      const part = (url: string) => e.extension?.find((x) => x.url === url);
      const provider = part('provider')?.valueReference;
      const period = part('period')?.valuePeriod;
      const started = !period?.start || period.start.slice(0, day.length) <= day;
      const ongoing = !period?.end || day.slice(0, period.end.length) <= period.end;
      return provider && started && ongoing ? [{ service: part('service')?.valueCoding?.code, provider }] : [];
    });
}

/** The directory's Organizations of the municipal care units that care for the patient now (none: no care). */
export async function findMunicipalCareProviders(
  db: Queryable,
  patient: Patient | undefined,
  at: Date,
): Promise<Array<{ care: MunicipalCare; org: OrganizationRow | undefined }>> {
  const found: Array<{ care: MunicipalCare; org: OrganizationRow | undefined }> = [];
  for (const care of municipalCareOf(patient, at)) {
    const local = /^Organization\/([A-Za-z0-9\-.]{1,64})$/.exec(care.provider.reference ?? '')?.[1];
    const id = care.provider.identifier;
    const org = local
      ? await findOrganizationById(db, local)
      : id?.system && id.value
        ? // A care unit is a health-care provider, whatever identifier names it (a municipality code names the jobcentre too).
          await findOrganizationByIdentifier(db, { system: id.system, value: id.value }, 'prov')
        : undefined;
    if (!found.some((f) => f.org && org && f.org.id === org.id)) {
      found.push({ care, org });
    }
  }
  return found;
}
