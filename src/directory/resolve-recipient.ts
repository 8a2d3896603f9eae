import type { Organization } from 'fhir/r4';
import { errors } from '../errors';
import type { Queryable } from '../store/db';
import {
  findDeliveryEndpoint,
  findListedGp,
  findOrganizationBySor,
  type ConnectionType,
  type OrganizationRow,
} from './directory';
import type { PatientRegistry } from './registry';

export interface Recipient {
  readonly organizationId: string;
  readonly organization: Organization;
  readonly sor: string;
  readonly name: string | undefined;
  readonly endpoint: { readonly address: string; readonly connectionType: ConnectionType };
}

export interface RecipientQuery {
  readonly patientCpr: string;
  /** An addressee named explicitly by the sender: it wins. */
  readonly recipientSor?: string | undefined;
  /** Patient.generalPractitioner as given in a FHIR document: used when it is a known organisation. */
  readonly generalPractitionerSor?: string | undefined;
  /** Where the sender's input names these, for error messages (e.g. "patient.cpr" or "Patient.identifier"). */
  readonly paths: { readonly patient: string; readonly recipient: string };
}

/**
 * Who receives a document: the organisation the sender named, else the GP named in the document if the
 * directory knows it, else the patient's listed GP from the directory (or the external registry). Every
 * dead end is a 422 that says which one, so a sender never needs to know who the GP is.
 */
export async function resolveRecipient(db: Queryable, query: RecipientQuery, registry?: PatientRegistry): Promise<Recipient> {
  if (query.recipientSor) {
    const org = await findOrganizationBySor(db, query.recipientSor);
    if (!org) {
      throw errors.unprocessable({
        diagnostics: `${query.paths.recipient}: no organisation with SOR ${query.recipientSor} in the directory`,
        expression: query.paths.recipient,
        reason: 'unknown-recipient',
      });
    }
    return withEndpoint(db, org, query.paths.recipient);
  }
  if (query.generalPractitionerSor) {
    const org = await findOrganizationBySor(db, query.generalPractitionerSor);
    if (org) {
      return withEndpoint(db, org, 'Patient.generalPractitioner');
    }
  }
  const listed = await findListedGp(db, query.patientCpr);
  let gp: OrganizationRow | undefined;
  if (listed.known) {
    gp = listed.gp;
  } else if (registry) {
    const found = await registry.lookUpGeneralPractitioner(query.patientCpr);
    if (!found) {
      throw unknownPatient(query.paths.patient);
    }
    gp = found.gpSor ? await findOrganizationBySor(db, found.gpSor) : undefined;
    if (found.gpSor && !gp) {
      throw errors.unprocessable({
        diagnostics: `${query.paths.patient}: the patient's GP (SOR ${found.gpSor}, from the registry) is not in the directory`,
        expression: query.paths.patient,
        reason: 'unknown-recipient',
      });
    }
  } else {
    throw unknownPatient(query.paths.patient);
  }
  if (!gp) {
    throw errors.unprocessable({
      diagnostics: `${query.paths.patient}: the patient has no listed GP (Patient.generalPractitioner) in the directory`,
      expression: query.paths.patient,
      reason: 'no-listed-gp',
    });
  }
  return withEndpoint(db, gp, query.paths.patient);
}

function unknownPatient(path: string) {
  return errors.unprocessable({
    diagnostics: `${path}: the patient is not known to the directory`,
    expression: path,
    reason: 'unknown-patient',
  });
}

async function withEndpoint(db: Queryable, org: OrganizationRow, path: string): Promise<Recipient> {
  const endpoint = await findDeliveryEndpoint(db, org);
  if (!endpoint) {
    throw errors.unprocessable({
      diagnostics: `${path}: the recipient ${org.name ?? ''} (SOR ${org.sor ?? org.id}) has no active FHIR endpoint (hl7-fhir-msg or hl7-fhir-rest) in the directory`.replace('  ', ' '),
      expression: path,
      reason: 'no-endpoint',
    });
  }
  return {
    organizationId: org.id,
    organization: org.resource,
    sor: org.sor ?? org.id,
    name: org.name ?? undefined,
    endpoint: { address: endpoint.address, connectionType: endpoint.connection_type as ConnectionType },
  };
}
