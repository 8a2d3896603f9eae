import type { Bundle } from 'fhir/r4';
import type { DeliveryRow } from '../store/delivery-row';
import type { MessageRow } from '../store/message-row';
import { listedPracticeCopy } from '../mappers/subscription/listed-practice-copy';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { isUuid } from '../store/uuid';

/**
 * The Bundle an event's focus (Bundle/<id>) names, as one organisation may have it:
 *  - a delivery addressed to it: the message Bundle as delivered (consent was decided before delivery);
 *  - a message about a patient listed with it now, that one of its subscriptions was notified of: the listed
 *    practice's copy (listed-practice-copy.ts). That is a new disclosure: the caller asks the disclosure
 *    guard and audits it;
 *  - anything else: undefined, which callers answer with 404 (that it exists is itself information).
 * No reader (an admin) may have any delivery, and any message's copy.
 */
export interface FocusDocument {
  bundle: Bundle;
  messageId: string;
  kind: string;
  patientCpr: string | null;
  /** Who sent the message: the organisation a read of it is disclosed from. */
  sender: { clientId: string; organization: Org };
  /** The listed practice's copy rather than a delivery to the reader. */
  copy: boolean;
}

type Org = { system: string; value: string };

interface SenderColumns {
  sender_client_id: string;
  sender_org_system: string | null;
  sender_org_value: string | null;
}
const SENDER_COLUMNS = 'm.sender_client_id, m.sender_org_system, m.sender_org_value';

function senderOf(row: SenderColumns): FocusDocument['sender'] {
  return {
    clientId: row.sender_client_id,
    organization: { system: row.sender_org_system ?? '', value: row.sender_org_value ?? '' },
  };
}

export async function focusDocument(
  db: Queryable,
  reader: Org | undefined,
  id: string,
): Promise<FocusDocument | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const delivered = await db.query<
    { bundle: Bundle } & Pick<DeliveryRow, 'recipient_system' | 'recipient_value' | 'message_id' | 'status'> &
      Pick<MessageRow, 'kind' | 'patient_cpr'> &
      SenderColumns
  >(
    `SELECT d.bundle, d.recipient_system, d.recipient_value, d.message_id, d.status, m.kind, m.patient_cpr, ${SENDER_COLUMNS}
       FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.id = $1`,
    [id],
  );
  const d = delivered[0];
  // A recipient reads what was delivered to it, nothing earlier: until the push, the pre-delivery check may still
  // block it (the patient withdrew or objected after intake), and a blocked Bundle was never the recipient's.
  if (d && (!reader || (d.recipient_system === reader.system && d.recipient_value === reader.value))) {
    // A GP's subscription may announce its own letter before the push lands; outside health care only after it.
    if (reader && (d.status === 'blocked' || (d.status !== 'delivered' && d.recipient_system !== SYSTEM.sor))) {
      return undefined;
    }
    return {
      bundle: d.bundle,
      messageId: d.message_id,
      kind: d.kind,
      patientCpr: d.patient_cpr,
      sender: senderOf(d),
      copy: false,
    };
  }
  // Another addressee's delivery is never a reader's focus, and only health care (SOR) gets the listed practice's copy.
  if (d || (reader && reader.system !== SYSTEM.sor)) {
    return undefined;
  }
  const messageId = id;
  const entitled = reader
    ? `AND EXISTS (SELECT 1 FROM patients p JOIN organizations o ON o.id = p.gp_organization_id WHERE p.cpr = m.patient_cpr AND o.sor = $3)
       AND EXISTS (SELECT 1 FROM subscriptions s JOIN subscription_events e ON e.subscription_id = s.id WHERE s.org_system = $2 AND s.org_value = $3 AND e.focus_id = $4)`
    : '';
  // An addressee identified by SOR (health care) first: its Bundle was not minimised for another sector.
  const rows = await db.query<{ kind: string; patient_cpr: string | null; bundle: Bundle } & SenderColumns>(
    `SELECT m.kind, m.patient_cpr, d.bundle, ${SENDER_COLUMNS} FROM messages m JOIN deliveries d ON d.message_id = m.id
      WHERE m.id = $1 ${entitled}
      ORDER BY (d.recipient_system = $2) DESC, d.created_at LIMIT 1`,
    reader ? [messageId, reader.system, reader.value, id] : [messageId, SYSTEM.sor],
  );
  const found = rows[0];
  return found
    ? {
        bundle: listedPracticeCopy(found.bundle, messageId),
        messageId,
        kind: found.kind,
        patientCpr: found.patient_cpr,
        sender: senderOf(found),
        copy: true,
      }
    : undefined;
}
