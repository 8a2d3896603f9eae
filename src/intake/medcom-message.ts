import type { Bundle, Organization, Patient } from 'fhir/r4';
import type { Recipient } from '../directory/resolve-recipient';
import { findOrganizationBySor, findPatientByCpr } from '../directory/directory';
import { errors } from '../errors';
import type { ClinicalDocument } from '../mappers/clinical-document';
import type { MappingContext } from '../mappers/context';
import type { EncounterNotification } from '../mappers/hl7v2/to-encounter-notification';
import { buildCareCommunication } from '../mappers/medcom/care-communication';
import { careCommunicationContent } from '../mappers/medcom/from-clinical-document';
import { glnOf } from '../mappers/medcom/gln';
import { buildHospitalNotification } from '../mappers/medcom/hospital-notification';
import type { MedComEvent } from '../mappers/medcom/medcom-systems';
import type { MedComParty, MedComPatient } from '../mappers/medcom/messaging';
import { dialectFor, type Dialect } from '../mappers/medcom/payload-types';
import type { Queryable } from '../store/db';

/**
 * The gateway builds for each recipient the dialect its endpoint accepts (Endpoint.payloadType): a MedCom
 * receiver of CareCommunication gets discharge letters and "send to own GP" documents as CareCommunication
 * 5.0.x, a MedCom receiver of HospitalNotification gets admissions and discharges as HospitalNotification
 * 3.0.x; everyone else gets the gateway's own messages (`ownBundle`). A MedCom message needs SOR and GLN for
 * sender and receiver and an official name for the patient: what is missing is a 422 that names it.
 */
export interface DialectArgs {
  document: ClinicalDocument | EncounterNotification;
  /** The gateway's own event code for this message (sektorbro-message-events). */
  ownEvent: string;
  recipient: Recipient;
  senderSor: string;
  messageHeaderId: string;
  bundleId: string;
  ctx: MappingContext;
  ownBundle: () => Bundle;
}

export function medcomEventOf(document: ClinicalDocument | EncounterNotification): MedComEvent {
  return 'composition' in document ? 'care-communication-message' : 'hospital-notification-message';
}

export async function buildForRecipient(db: Queryable, a: DialectArgs): Promise<{ bundle: Bundle; dialect: Dialect }> {
  const dialect = dialectFor(a.recipient.endpoint.resource, medcomEventOf(a.document), a.ownEvent);
  if (!dialect) {
    throw errors.unprocessable({
      diagnostics: `Endpoint.payloadType: the recipient ${a.recipient.name ?? ''} (SOR ${a.recipient.sor}) takes neither ${medcomEventOf(a.document)} nor the gateway's ${a.ownEvent}`,
      expression: 'Endpoint.payloadType',
      reason: 'payload-type-not-accepted',
    });
  }
  if (dialect === 'sektorbro') {
    return { bundle: a.ownBundle(), dialect };
  }
  const senderRow = await findOrganizationBySor(db, a.senderSor);
  const sender = medcomParty(senderRow?.resource, a.senderSor, 'sender');
  const receiver = {
    ...medcomParty(a.recipient.organization, a.recipient.sor, 'receiver'),
    endpoint: a.recipient.endpoint.address,
  };
  const patient = medcomPatientOf(a.document, (await findPatientByCpr(db, a.document.patientCpr))?.resource);
  if ('composition' in a.document) {
    const content = careCommunicationContent(a.document);
    const contact =
      content.contact ??
      senderRow?.resource.telecom?.find((t) => (t.system === 'phone' || t.system === 'email') && t.value);
    if (!contact?.value) {
      throw errors.unprocessable({
        diagnostics:
          'author: a MedCom CareCommunication needs the author contact (a phone or email of the author or the sending department); give one in the input or the sender Organization.telecom in the directory',
        expression: 'author',
        reason: 'missing-author-contact',
      });
    }
    return {
      dialect,
      bundle: buildCareCommunication(
        {
          messageHeaderId: a.messageHeaderId,
          bundleId: a.bundleId,
          sender,
          receiver,
          patient,
          category: content.category,
          topic: content.topic,
          text: content.text,
          attachments: content.attachments,
          author: { ...content.author, contact: { system: contact.system, value: contact.value } },
          writtenAt: content.writtenAt,
        },
        a.ctx,
      ),
    };
  }
  return {
    dialect,
    bundle: buildHospitalNotification(
      {
        notification: a.document,
        messageHeaderId: a.messageHeaderId,
        bundleId: a.bundleId,
        sender,
        receiver,
        patient,
      },
      a.ctx,
    ),
  };
}

function medcomParty(org: Organization | undefined, sor: string, role: 'sender' | 'receiver'): MedComParty {
  const gln = glnOf(org?.identifier);
  if (!org || !gln) {
    throw errors.unprocessable({
      diagnostics: `Organization.identifier: the ${role} (SOR ${sor}${org?.name ? `, ${org.name}` : ''}) has no GLN (EAN lokationsnummer, system https://www.gs1.org/gln) in the directory, which a MedCom message needs for sender and receiver`,
      expression: 'Organization.identifier',
      reason: 'missing-gln',
    });
  }
  return { sor, gln, name: org.name };
}

/** The official name from the directory, else the name the input gave; MedCom's Patient needs one. */
function medcomPatientOf(
  document: ClinicalDocument | EncounterNotification,
  listed: Patient | undefined,
): MedComPatient {
  const fromInput = document.entries.find((e) => e.resource.resourceType === 'Patient')?.resource as
    | Patient
    | undefined;
  const names = [...(listed?.name ?? []), ...(fromInput?.name ?? [])];
  const name = names.find((n) => n.use === 'official') ?? names.find((n) => n.family || n.given?.length);
  if (!name || (!name.family && !name.given?.length)) {
    throw errors.unprocessable({
      diagnostics:
        "Patient.name: a MedCom message needs the patient's official name; neither the directory nor the input has it",
      expression: 'Patient.name',
      reason: 'missing-patient-name',
    });
  }
  return { cpr: document.patientCpr, name: { family: name.family, given: name.given } };
}
