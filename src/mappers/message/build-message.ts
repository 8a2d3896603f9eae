import type { Bundle, MessageHeader, Organization, Provenance } from 'fhir/r4';
import { compositionEntry, type ClinicalDocument } from '../clinical-document';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { PROFILE, entry, type Entry } from '../native-parts';
import { SYSTEM } from '../systems';
import { eventDisplay, type MessageEvent } from '../../messages/message-kinds';

export const MEDCOM = {
  destinationUse: 'http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension',
  destinationUseSystem: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse',
  activityCodes: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes',
} as const;

export interface MessageParty {
  /** The identifier value: a SOR code unless `system` says otherwise (municipality code, CVR). */
  sor: string;
  system?: string | undefined;
  name?: string | undefined;
}

export interface BuildMessageArgs {
  /** The document (focus: its Composition), or a focus resource with its companions (notifications). */
  document: Pick<ClinicalDocument, 'entries'> & { focus?: Entry };
  event: MessageEvent;
  /** Why this message is sent, where the event alone does not say (a reminder, a cancellation...). */
  reason?: { system: string; code: string; display: string } | undefined;
  /** MessageHeader.id of the earlier message this one answers or follows up (Provenance reply-message). */
  replyTo?: string | undefined;
  messageHeaderId: string;
  bundleId: string;
  sender: MessageParty;
  receiver: MessageParty & { endpointAddress: string };
  ctx: MappingContext;
}

/**
 * Wraps a document in a message Bundle shaped like MedCom's FHIR messages, so it can become one when MedCom
 * profiles exist for it: MessageHeader first (stable id across retries, event code, primary destination,
 * sender, source.endpoint for acknowledgements, focus on the Composition), the document's resources, the
 * sender and receiver organisations, and a Provenance of the new message.
 */
export function buildMessageBundle(args: BuildMessageArgs): Bundle {
  const { document, ctx } = args;
  const focus = document.focus ?? compositionEntry(document as ClinicalDocument);
  const sender = findOrganization(document.entries, args.sender) ?? organization(args.sender, ctx);
  const receiver = findOrganization(document.entries, args.receiver) ?? organization(args.receiver, ctx);
  const header = entry<MessageHeader>({
    resourceType: 'MessageHeader',
    id: args.messageHeaderId,
    meta: { profile: [PROFILE.messageHeader] },
    text: narrative(
      `${eventDisplay(args.event)} fra ${args.sender.name ?? `${partyLabel(args.sender)} ${args.sender.sor}`} til ${args.receiver.name ?? `${partyLabel(args.receiver)} ${args.receiver.sor}`}`,
    ),
    eventCoding: { system: SYSTEM.messageEvents, code: args.event, display: eventDisplay(args.event) },
    destination: [
      {
        extension: [
          { url: MEDCOM.destinationUse, valueCoding: { system: MEDCOM.destinationUseSystem, code: 'primary' } },
        ],
        endpoint: args.receiver.endpointAddress,
        receiver: { reference: receiver.fullUrl, ...(args.receiver.name ? { display: args.receiver.name } : {}) },
      },
    ],
    sender: { reference: sender.fullUrl },
    source: { name: 'Sektorbro', software: 'Sektorbro gateway', endpoint: ctx.gatewayEndpoint },
    ...(args.reason ? { reason: { coding: [args.reason], text: args.reason.display } } : {}),
    focus: [{ reference: focus.fullUrl }],
  });
  const provenance = entry<Provenance>({
    resourceType: 'Provenance',
    id: ctx.newId(),
    text: narrative(
      args.replyTo
        ? `Svar på meddelelse (reply to message) ${args.replyTo}, afsendt ${ctx.now.toISOString()}`
        : `Ny meddelelse (new message) afsendt ${ctx.now.toISOString()}`,
    ),
    target: [{ reference: header.fullUrl }],
    recorded: ctx.now.toISOString(),
    activity: { coding: [{ system: MEDCOM.activityCodes, code: args.replyTo ? 'reply-message' : 'new-message' }] },
    agent: [{ who: { reference: sender.fullUrl } }],
    ...(args.replyTo
      ? {
          entity: [
            { role: 'revision' as const, what: { identifier: { system: SYSTEM.messageId, value: args.replyTo } } },
          ],
        }
      : {}),
  });
  const extra = [sender, receiver].filter((o) => !document.entries.includes(o));
  return {
    resourceType: 'Bundle',
    id: args.bundleId,
    meta: { profile: [PROFILE.message] },
    type: 'message',
    timestamp: ctx.now.toISOString(),
    entry: [header, ...document.entries, ...dedupe(extra), provenance],
  };
}

function organization(party: MessageParty, ctx: MappingContext): Entry<Organization> {
  return entry<Organization>({
    resourceType: 'Organization',
    id: ctx.newId(),
    text: narrative(party.name ?? 'Organisation', `${partyLabel(party)} ${party.sor}`),
    identifier: [{ system: party.system ?? SYSTEM.sor, value: party.sor }],
    ...(party.system === SYSTEM.municipality
      ? { type: [{ coding: [{ system: SYSTEM.sector, code: 'municipality' }] }] }
      : {}),
    ...(party.system === SYSTEM.cvr ? { type: [{ coding: [{ system: SYSTEM.sector, code: 'employer' }] }] } : {}),
    ...(party.name ? { name: party.name } : {}),
  });
}

function partyLabel(party: MessageParty): string {
  return party.system === SYSTEM.municipality ? 'Kommunekode' : party.system === SYSTEM.cvr ? 'CVR' : 'SOR';
}

function findOrganization(entries: Entry[], party: MessageParty): Entry | undefined {
  const system = party.system ?? SYSTEM.sor;
  return entries.find(
    (e) =>
      e.resource.resourceType === 'Organization' &&
      (e.resource as Organization).identifier?.some((i) => i.system === system && i.value === party.sor),
  );
}

function dedupe(entries: Array<Entry>): Array<Entry> {
  return entries.filter((e, i) => entries.findIndex((o) => o.fullUrl === e.fullUrl) === i);
}
