import type { Bundle, BundleEntry, MessageHeader, Organization, Patient, Provenance, Resource } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { entry, type Entry } from '../native-parts';
import { MEDCOM_EXTENSION, MEDCOM_SYSTEM, type MedComEvent } from './medcom-systems';

/**
 * MedCom's messaging base (medcom-messaging-*: Organization with SOR and GLN, Patient with an official name,
 * MessageHeader with a primary destination, Provenance with occurred/recorded at the send time), shared by the
 * CareCommunication, HospitalNotification and Acknowledgement builders. Each standard passes its own profiles.
 */
export interface MedComParty {
  /** SOR code (urn:oid:1.2.208.176.1.1). */
  sor: string;
  /** GLN / EAN lokationsnummer, 13 digits. */
  gln: string;
  name?: string | undefined;
}

export interface MedComPatient {
  cpr: string;
  /** Official name (Patient.name use=official), from the directory or the input. */
  name: { family?: string | undefined; given?: string[] | undefined };
}

export function medcomOrganization(party: MedComParty, profile: string, ctx: MappingContext): Entry<Organization> {
  return entry<Organization>({
    resourceType: 'Organization',
    id: ctx.newId(),
    meta: { profile: [profile] },
    text: narrative(party.name ?? 'Organisation', `SOR ${party.sor}, GLN ${party.gln}`),
    identifier: [
      { system: MEDCOM_SYSTEM.gln, value: party.gln },
      { system: MEDCOM_SYSTEM.sor, value: party.sor },
    ],
    ...(party.name ? { name: party.name } : {}),
  });
}

export function medcomPatient(p: MedComPatient, profile: string, ctx: MappingContext): Entry<Patient> {
  const display = [...(p.name.given ?? []), p.name.family].filter(Boolean).join(' ');
  return entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [profile] },
    text: narrative(`Patient: ${display}`),
    identifier: [{ system: MEDCOM_SYSTEM.cpr, value: p.cpr }],
    name: [
      {
        use: 'official',
        ...(p.name.family ? { family: p.name.family } : {}),
        ...(p.name.given?.length ? { given: p.name.given } : {}),
      },
    ],
  });
}

export interface HeaderArgs {
  id: string;
  profile: string;
  event: MedComEvent;
  definition?: string | undefined;
  sender: Entry<Organization>;
  receiver: Entry<Organization>;
  /** Where the receiver is reached (MessageHeader.destination.endpoint). */
  destinationEndpoint: string;
  /** Where acknowledgements and replies go (MessageHeader.source.endpoint). */
  sourceEndpoint: string;
  focus?: Entry | undefined;
  response?: MessageHeader['response'];
  text: string;
}

export function medcomMessageHeader(a: HeaderArgs): Entry<MessageHeader> {
  return entry<MessageHeader>({
    resourceType: 'MessageHeader',
    id: a.id,
    meta: { profile: [a.profile] },
    text: narrative(a.text),
    eventCoding: { system: MEDCOM_SYSTEM.eventCodes, code: a.event },
    destination: [
      {
        extension: [
          {
            url: MEDCOM_EXTENSION.destinationUse,
            valueCoding: { system: MEDCOM_SYSTEM.destinationUse, code: 'primary' },
          },
        ],
        endpoint: a.destinationEndpoint,
        receiver: { reference: a.receiver.fullUrl },
      },
    ],
    sender: { reference: a.sender.fullUrl },
    source: { endpoint: a.sourceEndpoint },
    ...(a.response ? { response: a.response } : {}),
    ...(a.focus ? { focus: [{ reference: a.focus.fullUrl }] } : {}),
    ...(a.definition ? { definition: a.definition } : {}),
  });
}

export interface ProvenanceArgs {
  profile: string;
  header: Entry<MessageHeader>;
  /** medcom-messaging-activityCodes: new-message, reply-message, admit-inpatient, acknowledgement... */
  activity: string;
  agent: Entry<Organization>;
  /** The send time: occurredDateTime and recorded (MedCom: when the message was sent, not when input came in). */
  sentAt: string;
  /** The MessageHeader (its fullUrl) this message replies to, revises or acknowledges (entity role revision). */
  revisionOf?: string | undefined;
  /** Identifiers of what the message carries (CareCommunication: each payload's identifier, entity role source). */
  sources?: string[] | undefined;
  text: string;
}

export function medcomProvenance(a: ProvenanceArgs, ctx: MappingContext): Entry<Provenance> {
  return entry<Provenance>({
    resourceType: 'Provenance',
    id: ctx.newId(),
    meta: { profile: [a.profile] },
    text: narrative(a.text),
    target: [{ reference: a.header.fullUrl }],
    occurredDateTime: a.sentAt,
    recorded: a.sentAt,
    activity: { coding: [{ system: MEDCOM_SYSTEM.activityCodes, code: a.activity }] },
    agent: [{ who: { reference: a.agent.fullUrl } }],
    ...(a.revisionOf || a.sources?.length
      ? {
          entity: [
            ...(a.sources ?? []).map((value) => ({ role: 'source' as const, what: { identifier: { value } } })),
            ...(a.revisionOf ? [{ role: 'revision' as const, what: { reference: a.revisionOf } }] : []),
          ],
        }
      : {}),
  });
}

export function medcomBundle(profile: string, id: string, timestamp: string, entries: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', id, meta: { profile: [profile] }, type: 'message', timestamp, entry: entries };
}

/** The MessageHeader of a message Bundle (its first entry), or undefined. */
export function headerOf(bundle: Bundle): MessageHeader | undefined {
  const r = bundle.entry?.[0]?.resource as MessageHeader | undefined;
  return r?.resourceType === 'MessageHeader' ? r : undefined;
}

/** An entry of a Bundle by reference: its fullUrl, or `Type/id` as MedCom's own messages write them. */
export function findEntry(bundle: Bundle, reference: string | undefined): BundleEntry | undefined {
  if (!reference) {
    return undefined;
  }
  return bundle.entry?.find(
    (e) =>
      e.fullUrl === reference ||
      (e.resource && `${e.resource.resourceType}/${e.resource.id ?? ''}` === reference) ||
      (e.fullUrl?.endsWith(`/${reference}`) ?? false),
  );
}

/** Whether a resource claims a profile of one of MedCom's packages. */
export function isMedCom(resource: Resource | undefined): boolean {
  return (resource?.meta?.profile ?? []).some((p) => p.startsWith('http://medcomfhir.dk/'));
}

/**
 * A MedCom message as it goes out on one send (MedCom reliable messaging): a new Bundle.id, Bundle.timestamp and
 * the message's own Provenance (the one whose target is this MessageHeader) occurred/recorded at the send time;
 * MessageHeader.id and everything else unchanged. Returns a copy.
 */
export function stampSend(bundle: Bundle, bundleId: string, sentAt: Date): Bundle {
  const at = sentAt.toISOString();
  const headerUrl = bundle.entry?.[0]?.fullUrl;
  return {
    ...bundle,
    id: bundleId,
    timestamp: at,
    entry: (bundle.entry ?? []).map((e) => {
      const p = e.resource as Provenance | undefined;
      return p?.resourceType === 'Provenance' && headerUrl && p.target.some((t) => t.reference === headerUrl)
        ? { ...e, resource: { ...p, occurredDateTime: at, recorded: at } }
        : e;
    }),
  };
}
