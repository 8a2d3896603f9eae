import type { Patient } from 'fhir/r4';
import { recordAudit } from '../audit/record-audit';
import { careTeamsInForce } from '../care-team/care-team-store';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import {
  findDeliveryEndpoint,
  findListedGp,
  findOrganizationByIdentifier,
  type ConnectionType,
  type OrganizationRow,
} from '../directory/directory';
import { dialectFor } from '../mappers/medcom/payload-types';
import type { MeetingRole } from '../mappers/planning-meeting-types';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { MEETING_KIND, meetingDisclosure } from './meeting-messages';
import type { StoredParticipant } from './meeting-store';

/**
 * Finds each wanted participant of a planning meeting and decides whether it is invited: the patient's own GP
 * (the directory's Patient.generalPractitioner, as "send to own GP"), the jobcentre of the patient's home
 * municipality (dk-core municipalityCodes on the directory's Patient.address) only where the patient's consent
 * permits it (health → municipality is denied without one), the care manager of the care team in force, and
 * the patient (who reads and answers in their own app, so no endpoint). A health-care participant is invited
 * unless the patient objected. A refused one is in the patient's disclosure log; every left-out participant
 * carries the reason, which only the organiser sees.
 */
const MUNICIPALITY_EXTENSION = 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes';

export async function resolveParticipants(
  tx: Queryable,
  guard: DisclosureGuard,
  a: {
    patient: Patient;
    patientCpr: string;
    roles: readonly MeetingRole[];
    now: Date;
    sender: { clientId: string; organization: { system: string; value: string } };
    meetingId: string;
  },
): Promise<StoredParticipant[]> {
  const out: StoredParticipant[] = [];
  for (const role of a.roles) {
    if (role === 'patient') {
      out.push(participant(role, { system: SYSTEM.cpr, value: a.patientCpr, name: null }));
      continue;
    }
    const found = await findParty(tx, role, a.patient, a.patientCpr, a.now);
    if ('missing' in found) {
      out.push(notInvited(role, found.party, found.missing));
      continue;
    }
    const org = found.org;
    const party = { system: found.identifier.system, value: found.identifier.value, name: org.name };
    const decision = await guard.decide(
      tx,
      a.patientCpr,
      {
        messageKind: MEETING_KIND.invitation,
        from: 'health',
        to: role === 'caseworker' ? 'municipality' : 'health',
        recipient: found.identifier,
        ...meetingDisclosure(role),
      },
      a.now,
    );
    if (!decision.permit) {
      await recordAudit(tx, {
        action: 'refused',
        messageKind: MEETING_KIND.invitation,
        messageId: a.meetingId,
        sender: a.sender,
        recipient: { ...found.identifier, name: org.name ?? undefined },
        patientCpr: a.patientCpr,
        consent: decision.consent,
        purpose: { system: SYSTEM.actReason, code: meetingDisclosure(role).purpose, display: 'planning meeting' },
        dataClasses: meetingDisclosure(role).dataClasses,
        reason: `not invited: ${decision.reason}`,
      });
      out.push(notInvited(role, party, `the patient's consent does not allow it (${decision.reason})`));
      continue;
    }
    const endpoint = await findDeliveryEndpoint(tx, org);
    if (!endpoint) {
      out.push(notInvited(role, party, 'no delivery endpoint in the directory'));
      continue;
    }
    const dialect = dialectFor(endpoint.resource, 'care-communication-message', 'planning-meeting-invitation');
    if (!dialect) {
      out.push(notInvited(role, party, 'its endpoint takes neither CareCommunication nor planning-meeting messages'));
      continue;
    }
    out.push({
      ...participant(role, party),
      endpoint: { address: endpoint.address, connectionType: endpoint.connection_type as ConnectionType },
      dialect,
    });
  }
  return out;
}

type Found =
  | { org: OrganizationRow; identifier: { system: string; value: string } }
  | { missing: string; party: { system: string; value: string; name: string | null } };

async function findParty(
  tx: Queryable,
  role: Exclude<MeetingRole, 'patient'>,
  patient: Patient,
  cpr: string,
  now: Date,
): Promise<Found> {
  const none = { system: SYSTEM.sor, value: 'unknown', name: null };
  if (role === 'gp') {
    const { gp } = await findListedGp(tx, cpr);
    return gp?.sor
      ? { org: gp, identifier: { system: SYSTEM.sor, value: gp.sor } }
      : { missing: 'no own GP in the directory', party: none };
  }
  if (role === 'care-manager') {
    const team = (await careTeamsInForce(tx, cpr, now))[0];
    const identifier = team ? { system: team.manager_system, value: team.manager_value } : undefined;
    const org = identifier ? await findOrganizationByIdentifier(tx, identifier) : undefined;
    return org && identifier
      ? { org, identifier }
      : { missing: 'no care team in force names a care manager in the directory', party: none };
  }
  const code = municipalityOf(patient);
  const identifier = code ? { system: SYSTEM.municipality, value: code } : undefined;
  const org = identifier ? await findOrganizationByIdentifier(tx, identifier) : undefined;
  return org && identifier
    ? { org, identifier }
    : {
        missing: "the patient's home municipality or its jobcentre is not in the directory",
        party: { system: SYSTEM.municipality, value: code ?? 'unknown', name: null },
      };
}

function municipalityOf(patient: Patient): string | undefined {
  for (const address of patient.address ?? []) {
    const code = address.extension
      ?.find((e) => e.url === MUNICIPALITY_EXTENSION)
      ?.valueCodeableConcept?.coding?.find((c) => c.system === SYSTEM.municipality)?.code;
    if (code) {
      return code;
    }
  }
  return undefined;
}

function participant(role: MeetingRole, party: StoredParticipant['party']): StoredParticipant {
  return {
    role,
    party,
    endpoint: null,
    dialect: null,
    status: 'needs-action',
    notInvitedReason: null,
    proposed: null,
    answeredAt: null,
    answeredVia: null,
  };
}

function notInvited(role: MeetingRole, party: StoredParticipant['party'], reason: string): StoredParticipant {
  return { ...participant(role, party), status: 'not-invited', notInvitedReason: reason };
}
