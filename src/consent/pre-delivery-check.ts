import { findOrganizationByIdentifier } from '../directory/directory';
import { disclosureOf } from './disclosure-of';
import { GatewayError } from '../errors';
import type { LookupCache } from '../cache/lookup-cache';
import type { Db } from '../store/db';
import type { DeliveryWork } from '../store/messages';
import { sectorOfOrganization, type DisclosureGuard } from './disclosure-guard';

/**
 * Consent again, right before a delivery: a consent withdrawn (or a deny recorded) while the message
 * waited stops it. Returns the reason to block, or undefined to go ahead. With a lookup cache, the directory and
 * consents come from it, fenced by the versions read with the delivery (`work.cacheVersions`): a change made
 * through any process before that read is seen.
 */
export function consentPreDeliveryCheck(db: Db, guard: DisclosureGuard, lookups?: LookupCache) {
  return async (work: DeliveryWork): Promise<string | undefined> => {
    if (!work.patientCpr) {
      return undefined;
    }
    const view = lookups && work.cacheVersions !== undefined ? lookups.at(db, work.cacheVersions) : db;
    const recipient = { system: work.recipientSystem, value: work.recipientValue };
    let org;
    try {
      org = await findOrganizationByIdentifier(view, recipient);
    } catch (e) {
      // Two organisations of the recipient's kind now share its identifier: which one the consent is about is unknown.
      if (e instanceof GatewayError) {
        return `the recipient ${work.recipientValue} is no longer unambiguous in the directory`;
      }
      throw e;
    }
    if (!org) {
      return `the recipient ${work.recipientValue} is no longer in the directory`;
    }
    // The sender's sector as stored with the message when it was accepted (not derived from a role).
    const base = disclosureOf(work.kind, work.senderSector, sectorOfOrganization(org.resource), recipient);
    // Classes already withheld at intake are not in the message: only what it carries must still be permitted.
    const request = work.disclosure
      ? { ...base, purpose: work.disclosure.purpose, dataClasses: work.disclosure.dataClasses, optionalDataClasses: [] }
      : base;
    const decision = await guard.decide(view, work.patientCpr, request);
    return decision.permit ? undefined : `consent changed before delivery: ${decision.reason}`;
  };
}
