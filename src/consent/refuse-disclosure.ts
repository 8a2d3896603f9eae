import { recordAudit } from '../audit/record-audit';
import { errors, type GatewayError } from '../errors';
import type { DisclosureAuditInput } from '../mappers/audit-event';
import type { Queryable } from '../store/db';

/** What a consent decision that refused says: the Consent that denied it (absent: none permitted it), and why. */
export interface Refusal {
  consent?: string | undefined;
  reason: string;
}

/**
 * The one refusal path for a disclosure the patient's consent does not allow, wherever it is decided (intake of a
 * document, a status-report request or answer, a sick-leave certificate, a subscription, a read of a copy):
 *
 * 1. the refusal is written to the patient's disclosure log: an AuditEvent with action `refused` (outcome 4)
 *    naming the deciding Consent, in a transaction of its own, so it stays although the request fails;
 * 2. the 403 OperationOutcome to throw is returned: reason `consent-denied` where a consent of the patient denies
 *    the disclosure, `consent-missing` where none permits it (CodeSystem sektorbro-error-codes).
 *
 * `diagnostics` names the field and which consent is missing and nothing else about the patient: the caller
 * may be the party the patient refused. Errors: the database's, unchanged (the error handler answers 503).
 */
export async function refuseDisclosure(
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  audit: Omit<DisclosureAuditInput, 'id' | 'recorded' | 'action' | 'consent'>,
  refusal: Refusal,
  diagnostics: string,
): Promise<GatewayError> {
  await db.transaction((tx) => recordAudit(tx, { ...audit, action: 'refused', consent: refusal.consent }));
  return errors.forbidden({ diagnostics, reason: refusal.consent ? 'consent-denied' : 'consent-missing' });
}
