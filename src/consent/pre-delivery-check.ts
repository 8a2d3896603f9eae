import type { Role } from '../auth/clients';
import { findOrganizationByIdentifier } from '../directory/directory';
import { disclosureOf } from './disclosure-of';
import type { Db } from '../store/db';
import type { DeliveryWork } from '../store/messages';
import { sectorOfOrganization, sectorOfRole, type DisclosureGuard } from './disclosure-guard';

/**
 * Consent again, right before a delivery: a consent withdrawn (or a deny recorded) while the message
 * waited stops it. Returns the reason to block, or undefined to go ahead.
 */
export function consentPreDeliveryCheck(db: Db, guard: DisclosureGuard) {
  return async (work: DeliveryWork): Promise<string | undefined> => {
    if (!work.patientCpr) {
      return undefined;
    }
    const recipient = { system: work.recipientSystem, value: work.recipientSor };
    const org = await findOrganizationByIdentifier(db, recipient);
    if (!org) {
      return `the recipient ${work.recipientSor} is no longer in the directory`;
    }
    const base = disclosureOf(work.kind, sectorOfRole(work.senderRole as Role), sectorOfOrganization(org.resource), recipient);
    // Classes already withheld at intake are not in the message: only what it carries must still be permitted.
    const request = work.disclosure ? { ...base, purpose: work.disclosure.purpose, dataClasses: work.disclosure.dataClasses, optionalDataClasses: [] } : base;
    const decision = await guard.decide(db, work.patientCpr, request);
    return decision.permit ? undefined : `consent changed before delivery: ${decision.reason}`;
  };
}
