import { randomUUID } from 'node:crypto';
import { buildDisclosureAuditEvent, type DisclosureAuditInput } from '../mappers/audit-event';
import { buildConsentAuditEvent, type ConsentAuditInput } from '../mappers/consent-audit-event';
import { json, type Queryable } from '../store/db';

/** Writes one disclosure AuditEvent; call it in the same transaction as the change it records. */
export async function recordAudit(
  tx: Queryable,
  input: Omit<DisclosureAuditInput, 'id' | 'recorded'> & { recorded?: Date },
): Promise<void> {
  const event = buildDisclosureAuditEvent({ ...input, id: randomUUID(), recorded: input.recorded ?? new Date() });
  await tx.query(
    'INSERT INTO audit_events (id, recorded, action, outcome, patient_cpr, message_id, resource) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)',
    [event.id, event.recorded, input.action, event.outcome, input.patientCpr ?? null, input.messageId, json(event)],
  );
}

/** Writes the disclosure-log entry of a consent recorded, changed or withdrawn; in the transaction that does it. */
export async function recordConsentAudit(
  tx: Queryable,
  input: Omit<ConsentAuditInput, 'id' | 'recorded'> & { recorded?: Date },
): Promise<void> {
  const event = buildConsentAuditEvent({ ...input, id: randomUUID(), recorded: input.recorded ?? new Date() });
  await tx.query(
    'INSERT INTO audit_events (id, recorded, action, outcome, patient_cpr, message_id, resource) VALUES ($1, $2, $3, $4, $5, NULL, $6::jsonb)',
    [event.id, event.recorded, input.action, event.outcome, input.patientCpr, json(event)],
  );
}
