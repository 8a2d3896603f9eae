import { noteMeetingReply } from '../planning-meetings/meeting-replies';
import { randomUUID } from 'node:crypto';
import type { Bundle, Identifier, Organization, Patient, Provenance } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { sectorOfRole } from '../consent/disclosure-guard';
import { findDeliveryEndpoint, findOrganizationBySor } from '../directory/directory';
import { errors, outcome } from '../errors';
import type { MappingContext } from '../mappers/context';
import { buildMedComAcknowledgement, type AckCode } from '../mappers/medcom/acknowledgement';
import { MEDCOM_SYSTEM, type MedComEvent } from '../mappers/medcom/medcom-systems';
import { findEntry, headerOf } from '../mappers/medcom/messaging';
import { nameBasedUuid } from '../mappers/medcom/hospital-notification';
import { acceptsMedCom } from '../mappers/medcom/payload-types';
import type { Db, Queryable } from '../store/db';
import { findReceived, recordInReplyTo, recordReceived } from '../store/medcom-received';
import { insertMessage } from '../store/messages';

/**
 * A MedCom message posted to the gateway (POST /fhir/$process-message), e.g. a GP system's CareCommunication
 * replying to a hospital department. The gateway routes it to the organisation named in
 * MessageHeader.destination (by SOR) over that organisation's endpoint, unchanged but for the Bundle.id of each
 * send, and answers at once with a MedCom Acknowledgement:
 * - ok: stored for delivery (a 202 in MedCom's words); a reply is linked to the message it answers (Provenance
 *   reply-message / forward-message, entity revision = the answered MessageHeader);
 * - fatal-error with a MSG_* code: the receiver is unknown or takes no such message, or the Bundle.id was used
 *   before with another MessageHeader.id;
 * - de-duplication by (MessageHeader.id, Bundle.id) per MedCom reliable messaging: the same pair again is a
 *   duplicate and gets the same acknowledgement again; the same MessageHeader.id with a new Bundle.id is a resend
 *   and gets a new acknowledgement with the first one's code; neither is delivered twice.
 * An acknowledgement is never acknowledged (routes/acknowledgements.ts takes those).
 */
export const ROUTED_MEDCOM_EVENTS: readonly MedComEvent[] = [
  'care-communication-message',
  'hospital-notification-message',
];

/** The system MedCom's acknowledgement-issue-details ValueSet gives HL7's MSG_* codes (sic: a ValueSet URL). */
const DUPLICATE_CODE_SYSTEM = 'http://hl7.org/fhir/ValueSet/operation-outcome';
/** HL7's MSG_* codes the gateway answers with (the others are medcom-acknowledgement-error-codes). */
const HL7_MSG_CODES = new Set(['MSG_ID_INVALID', 'MSG_DUPLICATE_ID']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InboundDeps {
  db: Db;
  onAccepted: () => void;
  gatewayEndpoint: string;
}

export async function receiveMedComMessage(deps: InboundDeps, client: GatewayClient, bundle: Bundle): Promise<Bundle> {
  const header = headerOf(bundle);
  if (!header?.id || !bundle.id) {
    throw errors.invalid({
      diagnostics: 'Bundle.id, MessageHeader.id: a MedCom message needs both (MedCom reliable messaging keys on them)',
      expression: 'Bundle.entry[0].resource.id',
      reason: 'missing-field',
    });
  }
  const headerId = header.id;
  const bundleId = bundle.id;
  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  const sender = organizationAt(bundle, header.sender?.reference);
  const senderSor = sorOf(sender?.identifier);
  if (!senderSor || senderSor !== client.organization.value) {
    throw errors.forbidden({
      diagnostics: `MessageHeader.sender: the sending Organization (SOR ${senderSor ?? 'missing'}) is not the organisation you act for`,
      reason: 'not-your-organisation',
    });
  }
  const earlier = await findReceived(deps.db, headerId, bundleId);
  const same = earlier.sameHeader.find((r) => r.bundleId === bundleId);
  if (same) {
    return same.ack;
  }
  const first = earlier.sameHeader[0];
  const ack = (code: AckCode, errorCode?: string, diagnostics?: string, system?: string): Bundle => {
    return buildMedComAcknowledgement(
      {
        message: bundle,
        code,
        errorCode,
        errorSystem: system ?? (errorCode && HL7_MSG_CODES.has(errorCode) ? DUPLICATE_CODE_SYSTEM : undefined),
        diagnostics,
        bundleId: randomUUID(),
        messageHeaderId: randomUUID(),
        sourceEndpoint: deps.gatewayEndpoint,
      },
      ctx,
    );
  };
  const answer = async (
    code: AckCode,
    errorCode?: string,
    diagnostics?: string,
    system?: string,
    messageId?: string,
  ): Promise<Bundle> => {
    const built = ack(code, errorCode, diagnostics, system);
    await deps.db.transaction((tx) =>
      recordReceived(tx, {
        messageHeaderId: headerId,
        bundleId,
        messageId: messageId ?? null,
        ackCode: code,
        ackErrorCode: errorCode ?? null,
        ack: built,
      }),
    );
    return built;
  };
  if (first) {
    // a resend: acknowledged again with the first answer's code, not delivered again
    return answer(first.ackCode as AckCode, first.ackErrorCode ?? undefined, 'resend of a received message');
  }
  if (earlier.sameBundleOtherHeader) {
    return answer(
      'fatal-error',
      'MSG_DUPLICATE_ID',
      `Bundle.id ${bundleId} was received before with another MessageHeader.id`,
      DUPLICATE_CODE_SYSTEM,
    );
  }
  const event = header.eventCoding?.code as MedComEvent;
  const receiver = organizationAt(bundle, header.destination?.[0]?.receiver?.reference);
  const receiverSor = sorOf(receiver?.identifier);
  const org = receiverSor ? await findOrganizationBySor(deps.db, receiverSor) : undefined;
  if (!org) {
    return answer(
      'fatal-error',
      'MSG_Receiver_Identifier_UNKNOWN',
      `no organisation with SOR ${receiverSor ?? '(none)'}`,
    );
  }
  const endpoint = await findDeliveryEndpoint(deps.db, org);
  if (!endpoint || !acceptsMedCom(endpoint.resource, event)) {
    return answer(
      'fatal-error',
      'MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE',
      `the receiver (SOR ${receiverSor ?? ''}) has no endpoint that takes ${event}`,
    );
  }
  const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
  const cpr = patient?.identifier?.find((i) => i.system === MEDCOM_SYSTEM.cpr)?.value;
  const original = await answeredMessage(deps.db, bundle);
  const messageId = randomUUID();
  const built = ack('ok');
  await deps.db.transaction(async (tx) => {
    await insertMessage(tx, {
      id: messageId,
      kind: event === 'care-communication-message' ? 'care-communication' : 'hospital-notification',
      senderClientId: client.id,
      senderRole: client.role,
      senderSector: sectorOfRole(client.role),
      senderOrg: client.organization,
      patientCpr: cpr,
      // the gateway's messages are keyed by UUID; MedCom's own test messages use other FHIR ids too
      messageHeaderId: trackingId(headerId),
      idempotencyKey: undefined,
      requestHash: messageId,
      response: { id: messageId, status: 'accepted', outcome: outcome([]) },
      deliveries: [
        {
          id: randomUUID(),
          recipientSor: receiverSor ?? '',
          recipientName: org.name ?? undefined,
          endpointAddress: endpoint.address,
          connectionType: endpoint.connection_type,
          bundle,
        },
      ],
    });
    if (original) {
      await recordInReplyTo(tx, messageId, original);
      // A reply to a planning-meeting invitation or update is that participant's answer.
      await noteMeetingReply(tx, original, client.organization, client.id);
    }
    await recordReceived(tx, {
      messageHeaderId: headerId,
      bundleId,
      messageId,
      ackCode: 'ok',
      ackErrorCode: null,
      ack: built,
    });
  });
  deps.onAccepted();
  return built;
}

/** MessageHeader.id as the messages table keys it: itself when a UUID, else a UUID derived from it. */
function trackingId(messageHeaderId: string): string {
  return UUID.test(messageHeaderId)
    ? messageHeaderId.toLowerCase()
    : nameBasedUuid(`medcom-message|${messageHeaderId}`);
}

function organizationAt(bundle: Bundle, reference: string | undefined): Organization | undefined {
  const r = findEntry(bundle, reference)?.resource as Organization | undefined;
  return r?.resourceType === 'Organization' ? r : undefined;
}

function sorOf(identifiers: Identifier[] | undefined): string | undefined {
  return identifiers?.find((i) => i.system === MEDCOM_SYSTEM.sor)?.value;
}

/** The gateway's message a reply or forward answers: Provenance reply-/forward-message, entity revision. */
async function answeredMessage(db: Queryable, bundle: Bundle): Promise<string | undefined> {
  const header = headerOf(bundle);
  const own = (bundle.entry ?? [])
    .map((e) => e.resource as Provenance | undefined)
    .find(
      (p) =>
        p?.resourceType === 'Provenance' &&
        p.target.some(
          (t) => t.reference === bundle.entry?.[0]?.fullUrl || t.reference === `MessageHeader/${header?.id ?? ''}`,
        ),
    );
  const activity = own?.activity?.coding?.[0]?.code;
  if (activity !== 'reply-message' && activity !== 'forward-message') {
    return undefined;
  }
  const ids = (own?.entity ?? [])
    .filter((e) => e.role === 'revision')
    .map(
      (e) =>
        /(?:urn:uuid:|MessageHeader\/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(
          e.what.reference ?? '',
        )?.[1],
    )
    .filter((id): id is string => id !== undefined)
    .map(trackingId);
  if (ids.length === 0) {
    return undefined;
  }
  const rows = await db.query<{ id: string }>('SELECT id FROM messages WHERE message_header_id = ANY($1::uuid[])', [
    ids,
  ]);
  return rows[0]?.id;
}
