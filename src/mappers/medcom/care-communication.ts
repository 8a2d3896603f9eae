import type {
  Bundle,
  Communication,
  ContactPoint,
  Organization,
  Practitioner,
  PractitionerRole,
  Provenance,
} from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { entry, type Entry } from '../native-parts';
import {
  findEntry,
  medcomBundle,
  medcomMessageHeader,
  medcomOrganization,
  medcomPatient,
  medcomProvenance,
  type MedComParty,
  type MedComPatient,
} from './messaging';
import { MEDCOM_EXTENSION, MEDCOM_PROFILE, MEDCOM_SYSTEM } from './medcom-systems';

/**
 * MedCom CareCommunication 5.0.x (korrespondancemeddelelse): a Communication with a category, a topic, the text
 * as a string payload and documents as attachment payloads, each payload with its date, identifier and (for
 * text) author PractitionerRole and author contact, as medcom-careCommunication-communication requires. Used
 * for "send to own GP" and for discharge letters to MedCom receivers (category `discharge`, the letter as text
 * and its PDF as an attachment) and for replies (Provenance `reply-message` naming the answered MessageHeader).
 */
export interface CareCommunicationInput {
  messageHeaderId: string;
  bundleId: string;
  sender: MedComParty;
  receiver: MedComParty & { endpoint: string };
  patient: MedComPatient;
  /** medcom-careCommunication-categoryCodes: discharge, other, examination-results... */
  category: string;
  topic: string;
  text: string;
  attachments: Array<{ contentType: string; data: string; title?: string | undefined }>;
  author: { name: string; role?: string | undefined; contact: ContactPoint };
  /** When the text was written (payload date); the send time is ctx.now. */
  writtenAt: string;
  /** The answered message as received: its MessageHeader and Provenance history are referenced and carried. */
  replyTo?: Bundle | undefined;
}

const CATEGORY_DISPLAY: Record<string, string> = { discharge: 'Udskrivning', other: 'Andet' };

export function buildCareCommunication(input: CareCommunicationInput, ctx: MappingContext): Bundle {
  const P = MEDCOM_PROFILE.careCommunication;
  const sentAt = ctx.now.toISOString();
  const sender = medcomOrganization(input.sender, P.organization, ctx);
  const receiver = medcomOrganization(input.receiver, P.organization, ctx);
  const patient = medcomPatient(input.patient, P.patient, ctx);
  const [given, family] = splitName(input.author.name);
  const practitioner = entry<Practitioner>({
    resourceType: 'Practitioner',
    id: ctx.newId(),
    meta: { profile: [P.practitioner] },
    text: narrative(input.author.name),
    name: [{ ...(family ? { family } : {}), ...(given.length ? { given } : {}) }],
  });
  // medcom-careCommunication-7: a role code xor a text; the gateway's inputs name the role in words
  const role = entry<PractitionerRole>({
    resourceType: 'PractitionerRole',
    id: ctx.newId(),
    meta: { profile: [P.practitionerRole] },
    text: narrative(`${input.author.name}, ${input.author.role ?? 'afsender'}`),
    practitioner: { reference: practitioner.fullUrl },
    code: [{ text: input.author.role ?? 'afsender' }],
  });
  const payloadIds: string[] = [];
  const payloadId = (): { url: string; valueIdentifier: { value: string; assigner: { reference: string } } } => {
    const value = `urn:uuid:${ctx.newId()}`;
    payloadIds.push(value);
    return { url: MEDCOM_EXTENSION.identifier, valueIdentifier: { value, assigner: { reference: sender.fullUrl } } };
  };
  const payload: Communication['payload'] = [
    {
      extension: [
        { url: MEDCOM_EXTENSION.datetime, valueDateTime: input.writtenAt },
        payloadId(),
        { url: MEDCOM_EXTENSION.practitioner, valueReference: { reference: role.fullUrl } },
        { url: MEDCOM_EXTENSION.contact, valueContactPoint: input.author.contact },
      ],
      contentString: input.text,
    },
    ...input.attachments.map((a) => ({
      extension: [{ url: MEDCOM_EXTENSION.datetime, valueDateTime: input.writtenAt }, payloadId()],
      contentAttachment: {
        contentType: a.contentType,
        data: a.data,
        ...(a.title ? { title: a.title } : {}),
        creation: input.writtenAt,
      },
    })),
  ];
  const communication = entry<Communication>({
    resourceType: 'Communication',
    id: ctx.newId(),
    meta: { profile: [P.communication] },
    text: narrative(input.topic, input.text),
    identifier: [{ value: `urn:uuid:${ctx.newId()}` }],
    status: 'unknown',
    category: [
      {
        coding: [
          {
            system: MEDCOM_SYSTEM.careCommunicationCategory,
            code: input.category,
            ...(CATEGORY_DISPLAY[input.category] ? { display: CATEGORY_DISPLAY[input.category] } : {}),
          },
        ],
      },
    ],
    subject: { reference: patient.fullUrl },
    topic: { text: input.topic },
    payload,
  });
  const header = medcomMessageHeader({
    id: input.messageHeaderId,
    profile: P.messageHeader,
    event: 'care-communication-message',
    definition: P.definition,
    sender,
    receiver,
    destinationEndpoint: input.receiver.endpoint,
    sourceEndpoint: ctx.gatewayEndpoint,
    focus: communication,
    text: `Korrespondancemeddelelse fra ${input.sender.name ?? input.sender.sor} til ${input.receiver.name ?? input.receiver.sor}`,
  });
  const history = input.replyTo ? messageHistory(input.replyTo, [sender, receiver]) : undefined;
  const provenance = medcomProvenance(
    {
      profile: P.provenance,
      header,
      activity: input.replyTo ? 'reply-message' : 'new-message',
      agent: sender,
      sentAt,
      revisionOf: history?.headerFullUrl,
      sources: payloadIds,
      text: `${input.replyTo ? 'Svar' : 'Ny meddelelse'} afsendt ${sentAt}`,
    },
    ctx,
  );
  return medcomBundle(P.message, input.bundleId, sentAt, [
    header,
    patient,
    communication,
    role,
    practitioner,
    sender,
    receiver,
    ...(history?.provenances ?? []),
    provenance,
  ]);
}

/**
 * The answered message's history for a reply: its MessageHeader's fullUrl (entity revision) and its Provenance
 * entries, whose agents are pointed at this message's Organizations with the same SOR (the organisations are the
 * same two, in the other direction).
 */
function messageHistory(
  answered: Bundle,
  organizations: Array<Entry<Organization>>,
): { headerFullUrl: string; provenances: Array<Entry<Provenance>> } {
  const header = answered.entry?.[0];
  const sorOf = (o: Organization | undefined) => o?.identifier?.find((i) => i.system === MEDCOM_SYSTEM.sor)?.value;
  const orgFor = (reference: string | undefined): string | undefined => {
    const old = findEntry(answered, reference)?.resource as Organization | undefined;
    return organizations.find((o) => sorOf(o.resource) !== undefined && sorOf(o.resource) === sorOf(old))?.fullUrl;
  };
  const provenances = (answered.entry ?? [])
    .filter((e) => e.resource?.resourceType === 'Provenance')
    .map((e) => {
      const p = structuredClone(e.resource as Provenance);
      p.agent = p.agent.map((a) => ({ ...a, who: { reference: orgFor(a.who.reference) ?? a.who.reference ?? '' } }));
      return { fullUrl: e.fullUrl ?? `Provenance/${p.id ?? ''}`, resource: p };
    });
  return { headerFullUrl: header?.fullUrl ?? `MessageHeader/${header?.resource?.id ?? ''}`, provenances };
}

/** "Anne Marie Holm" → given ["Anne", "Marie"], family "Holm" (Danish names put the family name last). */
function splitName(name: string): [string[], string | undefined] {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return parts.length <= 1 ? [parts, undefined] : [parts.slice(0, -1), parts[parts.length - 1]];
}
