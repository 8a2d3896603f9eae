import type { GatewayClient } from '../auth/clients';
import { recordAudit } from '../audit/record-audit';
import { disclosureOf } from '../consent/disclosure-of';
import { sectorOfRole, type DisclosureGuard } from '../consent/disclosure-guard';
import { findDeliveryEndpoint, findOrganizationBySor, type ConnectionType } from '../directory/directory';
import { kindFacts } from '../messages/message-kinds';
import { storeOutgoingMessage } from '../intake/outgoing-message';
import type { ClinicalDocument } from '../mappers/clinical-document';
import type { MappingContext } from '../mappers/context';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { careTeamsInForce } from './care-team-store';

/**
 * The care manager's copy of a clinical document (issue 18): while a care team is in force for the patient,
 * each discharge letter or clinical document the gateway accepts for the patient goes also to the care
 * manager it names, as its own message (own MessageHeader.id, tracking and delivery), in the transaction that
 * stores the original. It is checked against the patient's consent like any disclosure from the sender to a
 * health-care provider for treatment (a deny naming the care manager stops it, and is logged), and checked
 * again right before delivery. Returns the ids of the copies stored.
 */
export async function storeCareManagerCopies(
  tx: Queryable,
  guard: DisclosureGuard,
  ctx: MappingContext,
  args: {
    kind: 'discharge-letter' | 'clinical-document';
    client: GatewayClient;
    patientCpr: string;
    document: ClinicalDocument;
    /** The original's recipient: no second copy to it. */
    primary: { system: string; value: string };
  },
): Promise<string[]> {
  const stored: string[] = [];
  const seen = new Set([`${args.primary.system}|${args.primary.value}`]);
  for (const team of await careTeamsInForce(tx, args.patientCpr, ctx.now)) {
    const key = `${team.manager_system}|${team.manager_value}`;
    if (seen.has(key)) {
      continue;
    }
    seen.add(key);
    const org = await findOrganizationBySor(tx, team.manager_value);
    const endpoint = org ? await findDeliveryEndpoint(tx, org) : undefined;
    if (!org || !endpoint) {
      continue;
    }
    const target = { system: SYSTEM.sor, value: team.manager_value };
    const decision = await guard.decide(
      tx,
      args.patientCpr,
      disclosureOf(args.kind, sectorOfRole(args.client.role), 'health', target),
      ctx.now,
    );
    if (!decision.permit) {
      await recordAudit(tx, {
        action: 'refused',
        messageKind: args.kind,
        messageId: ctx.newId(),
        sender: { clientId: args.client.id, organization: args.client.organization },
        recipient: { ...target, name: org.name ?? undefined },
        patientCpr: args.patientCpr,
        consent: decision.consent,
        purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
        dataClasses: [kindFacts(args.kind).dataClass],
        reason: `care manager's copy not sent: ${decision.reason}`,
      });
      continue;
    }
    stored.push(
      await storeOutgoingMessage(tx, ctx, {
        kind: args.kind,
        sender: {
          clientId: args.client.id,
          role: args.client.role,
          sector: sectorOfRole(args.client.role),
          party: { ...args.client.organization, name: null },
        },
        to: {
          party: { system: SYSTEM.sor, value: team.manager_value, name: org.name },
          endpoint: { address: endpoint.address, connectionType: endpoint.connection_type as ConnectionType },
        },
        document: args.document,
        disclosure: { purpose: 'TREAT', dataClasses: [kindFacts(args.kind).dataClass] },
        patientCpr: args.patientCpr,
      }),
    );
  }
  return stored;
}
