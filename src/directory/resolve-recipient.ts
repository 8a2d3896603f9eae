import type { Endpoint, Organization } from 'fhir/r4';
import { errors } from '../errors';
import type { Queryable } from '../store/db';
import {
  findDeliveryEndpoint,
  findListedGp,
  findOrganizationBySor,
  findPatientByCpr,
  type ConnectionType,
  type OrganizationRow,
} from './directory';
import { findMunicipalCareProviders } from './municipal-care';
import type { PatientRegistry } from './registry';

export interface Recipient {
  readonly organizationId: string;
  readonly organization: Organization;
  readonly sor: string;
  readonly name: string | undefined;
  readonly endpoint: {
    readonly address: string;
    readonly connectionType: ConnectionType;
    /** The directory's Endpoint: its payloadType says which message types (MedCom or the gateway's) it takes. */
    readonly resource?: Endpoint | undefined;
  };
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
export async function resolveRecipient(
  db: Queryable,
  query: RecipientQuery,
  registry?: PatientRegistry,
): Promise<Recipient> {
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

/**
 * The municipal care units that also receive the patient's admission and discharge notifications (MedCom
 * HospitalNotification goes to the GP and, where the patient receives municipal care, to the municipality):
 * those the directory's Patient names in its `municipal-care` extension now (directory/municipal-care.ts).
 * A unit the directory does not know, or one without an endpoint, is a 422 naming it, like a GP's: the directory
 * must be fixed, and the hospital's feed is told so rather than the municipality silently left out.
 */
export async function resolveMunicipalCareRecipients(
  db: Queryable,
  patientCpr: string,
  at: Date,
  path: string,
): Promise<Recipient[]> {
  const patient = (await findPatientByCpr(db, patientCpr))?.resource;
  const recipients: Recipient[] = [];
  for (const { care, org } of await findMunicipalCareProviders(db, patient, at)) {
    if (!org) {
      const named = care.provider.reference ?? care.provider.identifier?.value ?? '';
      throw errors.unprocessable({
        diagnostics: `${path}: the patient's municipal care provider (${named}) is not in the directory`,
        expression: path,
        reason: 'unknown-recipient',
      });
    }
    recipients.push(await withEndpoint(db, org, path));
  }
  return recipients;
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
      diagnostics:
        `${path}: the recipient ${org.name ?? ''} (SOR ${org.sor ?? org.id}) has no active FHIR endpoint (hl7-fhir-msg or hl7-fhir-rest) in the directory`.replace(
          '  ',
          ' ',
        ),
      expression: path,
      reason: 'no-endpoint',
    });
  }
  return {
    organizationId: org.id,
    organization: org.resource,
    sor: org.sor ?? org.id,
    name: org.name ?? undefined,
    endpoint: {
      address: endpoint.address,
      connectionType: endpoint.connection_type as ConnectionType,
      resource: endpoint.resource,
    },
  };
}
