import { createHash } from 'node:crypto';
import type { Bundle, Encounter } from 'fhir/r4';
import type { MappingContext } from '../context';
import type { EncounterNotification } from '../hl7v2/to-encounter-notification';
import { narrative } from '../narrative';
import { entry } from '../native-parts';
import {
  medcomBundle,
  medcomMessageHeader,
  medcomOrganization,
  medcomPatient,
  medcomProvenance,
  type MedComParty,
  type MedComPatient,
} from './messaging';
import { MEDCOM_PROFILE } from './medcom-systems';

/**
 * MedCom HospitalNotification 3.0.x (sygehusadvis) from the gateway's admission/discharge notification: an
 * Encounter with status, class (IMP or EMER), the stay's episode-of-care identifier, the period with full
 * timestamps and the department as serviceProvider, and nothing else (no location: the profile forbids it);
 * the Provenance activity says what happened: admit-inpatient, discharge-inpatient-home, admit-emergency,
 * discharge-emergency-home.
 */
export interface HospitalNotificationInput {
  notification: EncounterNotification;
  messageHeaderId: string;
  bundleId: string;
  sender: MedComParty;
  receiver: MedComParty & { endpoint: string };
  patient: MedComPatient;
}

/** The Provenance activity code of a notification: A01 admits, A03 discharges; class EMER is the acute variant. */
export function hospitalNotificationActivity(n: EncounterNotification): string {
  const emergency = n.focus.resource.class.code === 'EMER';
  return n.kind === 'admission-notification'
    ? emergency
      ? 'admit-emergency'
      : 'admit-inpatient'
    : emergency
      ? 'discharge-emergency-home'
      : 'discharge-inpatient-home';
}

/**
 * The stay's episode-of-care identifier: the same for the admission and the discharge of one stay, so a GP
 * system can pair them. MedCom wants a UUID; the gateway derives one from the department, the patient and the
 * admission time (a stay's stable facts), in the UUID v5 layout over SHA-1.
 */
export function episodeOfCareId(departmentSor: string, cpr: string, admittedAt: string): string {
  return nameBasedUuid(`sektorbro-episode|${departmentSor}|${cpr}|${admittedAt}`);
}

/** A UUID in the v5 layout (SHA-1 of the name): the same name always gives the same UUID. */
export function nameBasedUuid(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function buildHospitalNotification(input: HospitalNotificationInput, ctx: MappingContext): Bundle {
  const P = MEDCOM_PROFILE.hospitalNotification;
  const n = input.notification;
  const source = n.focus.resource;
  const sentAt = ctx.now.toISOString();
  const sender = medcomOrganization(input.sender, P.organization, ctx);
  const receiver = medcomOrganization(input.receiver, P.organization, ctx);
  const patient = medcomPatient(input.patient, P.patient, ctx);
  const start = source.period?.start ?? '';
  const encounterClass = source.class.code === 'EMER' ? 'EMER' : 'IMP';
  const encounter = entry<Encounter>({
    resourceType: 'Encounter',
    id: ctx.newId(),
    meta: { profile: [P.encounter] },
    text: source.text ?? narrative(n.title),
    status: n.kind === 'admission-notification' ? 'in-progress' : 'finished',
    class: {
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: encounterClass,
      display: encounterClass === 'EMER' ? 'emergency' : 'inpatient encounter',
    },
    subject: { reference: patient.fullUrl },
    episodeOfCare: [
      {
        identifier: {
          system: `https://sor2.sum.dsdn.dk/#id=${input.sender.sor}`,
          value: episodeOfCareId(input.sender.sor, input.patient.cpr, start),
        },
      },
    ],
    period: { start, ...(source.period?.end ? { end: source.period.end } : {}) },
    serviceProvider: { reference: sender.fullUrl },
  });
  const activity = hospitalNotificationActivity(n);
  const header = medcomMessageHeader({
    id: input.messageHeaderId,
    profile: P.messageHeader,
    event: 'hospital-notification-message',
    sender,
    receiver,
    destinationEndpoint: input.receiver.endpoint,
    sourceEndpoint: ctx.gatewayEndpoint,
    focus: encounter,
    text: `Sygehusadvis (${activity}) fra ${input.sender.name ?? input.sender.sor}`,
  });
  const provenance = medcomProvenance(
    { profile: P.provenance, header, activity, agent: sender, sentAt, text: `${activity} afsendt ${sentAt}` },
    ctx,
  );
  return medcomBundle(P.message, input.bundleId, sentAt, [header, patient, encounter, sender, receiver, provenance]);
}
