import { randomUUID } from 'node:crypto';
import type { ConnectionType } from '../directory/directory';
import { outcome } from '../errors';
import type { MappingContext } from '../mappers/context';
import type { Party } from '../mappers/party';
import type { Sector } from '../consent/evaluate-consent';
import { buildMessageBundle, type BuildMessageArgs } from '../mappers/message/build-message';
import { MESSAGE_KINDS, type OwnEventKind } from '../messages/message-kinds';
import type { Queryable } from '../store/db';
import { insertMessage, type MessageDisclosure } from '../store/messages';

/**
 * Stores one message to one recipient with its delivery and outbox entry, inside the caller's
 * transaction: the way status reports, reminders and certificates send, so a commit means it will arrive.
 */
export interface OutgoingMessage {
  /** The kind decides the MessageHeader event (messages/message-kinds.ts). */
  kind: OwnEventKind;
  /** `sector`: the sector the message comes from, stored with it for the consent check before delivery. */
  sender: { clientId: string; role: string; sector: Sector; party: Party };
  to: { party: Party; endpoint: { address: string; connectionType: ConnectionType } };
  document: BuildMessageArgs['document'];
  disclosure: MessageDisclosure;
  patientCpr: string;
  reason?: BuildMessageArgs['reason'];
  replyTo?: string | undefined;
  taskId?: string | undefined;
  certificateId?: string | undefined;
  urgent?: boolean | undefined;
}

export async function storeOutgoingMessage(tx: Queryable, ctx: MappingContext, m: OutgoingMessage): Promise<string> {
  const messageId = randomUUID();
  const messageHeaderId = randomUUID();
  const deliveryId = randomUUID();
  const bundle = buildMessageBundle({
    document: m.document,
    event: MESSAGE_KINDS[m.kind].event.code,
    reason: m.reason,
    replyTo: m.replyTo,
    messageHeaderId,
    bundleId: deliveryId,
    sender: { sor: m.sender.party.value, system: m.sender.party.system, name: m.sender.party.name ?? undefined },
    receiver: {
      sor: m.to.party.value,
      system: m.to.party.system,
      name: m.to.party.name ?? undefined,
      endpointAddress: m.to.endpoint.address,
    },
    ctx,
  });
  await insertMessage(tx, {
    id: messageId,
    kind: m.kind,
    senderClientId: m.sender.clientId,
    senderRole: m.sender.role,
    senderSector: m.sender.sector,
    senderOrg: { system: m.sender.party.system, value: m.sender.party.value },
    patientCpr: m.patientCpr,
    messageHeaderId,
    idempotencyKey: undefined,
    requestHash: messageId,
    response: { id: messageId, status: 'accepted', outcome: outcome([]) },
    disclosure: m.disclosure,
    taskId: m.taskId,
    certificateId: m.certificateId,
    urgent: m.urgent,
    deliveries: [
      {
        id: deliveryId,
        recipientSystem: m.to.party.system,
        recipientSor: m.to.party.value,
        recipientName: m.to.party.name ?? undefined,
        endpointAddress: m.to.endpoint.address,
        connectionType: m.to.endpoint.connectionType,
        bundle,
      },
    ],
  });
  return messageId;
}
