import type { Role } from '../auth/clients';
import { findOrganizationBySor } from '../directory/directory';
import { disclosureOf } from './disclosure-of';
import { SYSTEM } from '../mappers/systems';
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
    const org = await findOrganizationBySor(db, work.recipientSor);
    if (!org) {
      return `the recipient SOR ${work.recipientSor} is no longer in the directory`;
    }
    const decision = await guard.decide(
      db,
      work.patientCpr,
      disclosureOf(work.kind, sectorOfRole(work.senderRole as Role), sectorOfOrganization(org.resource), { system: SYSTEM.sor, value: work.recipientSor }),
    );
    return decision.permit ? undefined : `consent changed before delivery: ${decision.reason}`;
  };
}
