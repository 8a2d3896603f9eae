import type { Endpoint, Organization, Patient } from 'fhir/r4';
import type { Queryable } from '../store/db';
import { errors, GatewayError } from '../errors';
import { SYSTEM } from '../mappers/systems';
import { cachedQuery } from '../cache/lookup-cache';
import {
  kindAddressedBy,
  kindOfOrganization,
  ORGANIZATION_TYPE_SYSTEM,
  type OrganizationKind,
} from './organization-kind';

const SOR_SYSTEM = SYSTEM.sor;

/**
 * Read side of the directory: organisations by SOR, their endpoints, patients by CPR with their listed GP.
 * Writes go through import-directory.ts. Given a CachedView (src/cache), these lookups may be answered from the
 * process's cache, which every directory change invalidates in every process.
 */
export interface OrganizationRow {
  id: string;
  sor: string | null;
  name: string | null;
  resource: Organization;
}

export interface EndpointRow {
  id: string;
  organization_id: string | null;
  connection_type: string;
  address: string;
  status: string;
  resource: Endpoint;
}

export interface PatientRow {
  id: string;
  cpr: string;
  gp_organization_id: string | null;
  resource: Patient;
}

/** Connection types the gateway can deliver to, best first. */
export const DELIVERABLE_CONNECTION_TYPES = ['hl7-fhir-msg', 'hl7-fhir-rest'] as const;
export type ConnectionType = (typeof DELIVERABLE_CONNECTION_TYPES)[number];

export async function findOrganizationBySor(db: Queryable, sor: string): Promise<OrganizationRow | undefined> {
  const rows = await cachedQuery<OrganizationRow>(
    db,
    'directory',
    undefined,
    'SELECT id, sor, name, resource FROM organizations WHERE sor = $1',
    [sor],
  );
  return rows[0];
}

/**
 * An organisation by any identifier: SOR for health care, a municipality code for a jobcentre, CVR for an employer.
 * `kind` (default: the kind the identifier system addresses, organization-kind.ts) picks among organisations that
 * share the identifier: a municipality code is carried by the jobcentre and may be by the municipality's care units
 * too. Undefined when none of that kind has it; a 422 `ambiguous-recipient` when more than one does, since taking
 * the first would send one organisation's messages to another.
 */
export async function findOrganizationByIdentifier(
  db: Queryable,
  id: { system: string; value: string },
  kind: OrganizationKind | undefined = kindAddressedBy(id.system),
): Promise<OrganizationRow | undefined> {
  if (id.system === SOR_SYSTEM) {
    return findOrganizationBySor(db, id.value);
  }
  const rows = await cachedQuery<OrganizationRow>(
    db,
    'directory',
    undefined,
    "SELECT id, sor, name, resource FROM organizations WHERE resource->'identifier' @> $1::jsonb ORDER BY id LIMIT 50",
    [JSON.stringify([{ system: id.system, value: id.value }])],
  );
  const fitting = kind ? rows.filter((row) => kindOfOrganization(row.resource) === kind) : rows;
  if (fitting.length > 1) {
    throw ambiguous(id, fitting);
  }
  return fitting[0];
}

function ambiguous(id: { system: string; value: string }, rows: OrganizationRow[]) {
  return errors.unprocessable({
    diagnostics: `the directory has ${rows.length} organisations of the same kind with identifier ${id.system}|${id.value} (${rows
      .map((r) => r.name ?? r.id)
      .join(
        ', ',
      )}): name the recipient by SOR code, or give the directory entries distinct Organization.type (${ORGANIZATION_TYPE_SYSTEM})`,
    reason: 'ambiguous-recipient',
  });
}

/**
 * The directory's name for the organisation an identifier names, for display (disclosure log, traffic): undefined
 * when it is unknown, has no name, or the identifier is ambiguous (a name shown must be the recipient's own).
 */
export async function organisationName(
  db: Queryable,
  id: { system: string; value: string },
): Promise<string | undefined> {
  try {
    return (await findOrganizationByIdentifier(db, id))?.name ?? undefined;
  } catch (e) {
    if (e instanceof GatewayError && e.status === 422) {
      return undefined;
    }
    throw e;
  }
}

export async function findOrganizationById(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  const rows = await cachedQuery<OrganizationRow>(
    db,
    'directory',
    undefined,
    'SELECT id, sor, name, resource FROM organizations WHERE id = $1',
    [id],
  );
  return rows[0];
}

export async function findPatientByCpr(db: Queryable, cpr: string): Promise<PatientRow | undefined> {
  const rows = await cachedQuery<PatientRow>(
    db,
    'directory',
    undefined,
    'SELECT id, cpr, gp_organization_id, resource FROM patients WHERE cpr = $1',
    [cpr],
  );
  return rows[0];
}

/**
 * An organisation named by identifier and where to deliver to it, as far as the directory knows them now:
 * no `org` when it is unknown, no `endpoint` when it has no active endpoint the gateway can deliver to.
 */
export async function findOrganizationEndpoint(
  db: Queryable,
  id: { system: string; value: string },
  kind?: OrganizationKind,
): Promise<{ org?: OrganizationRow; endpoint?: { address: string; connectionType: ConnectionType } }> {
  const org = await findOrganizationByIdentifier(db, id, kind ?? kindAddressedBy(id.system));
  const endpoint = org ? await findDeliveryEndpoint(db, org) : undefined;
  return {
    ...(org ? { org } : {}),
    ...(endpoint
      ? { endpoint: { address: endpoint.address, connectionType: endpoint.connection_type as ConnectionType } }
      : {}),
  };
}

/**
 * Whether the directory knows the patient, and the organisation they are listed with: one round trip, as
 * every document without a named addressee asks it.
 */
export async function findListedGp(
  db: Queryable,
  cpr: string,
): Promise<{ known: boolean; gp: OrganizationRow | undefined }> {
  const rows = await cachedQuery<{
    id: string | null;
    sor: string | null;
    name: string | null;
    resource: Organization | null;
  }>(
    db,
    'directory',
    undefined,
    'SELECT o.id, o.sor, o.name, o.resource FROM patients p LEFT JOIN organizations o ON o.id = p.gp_organization_id WHERE p.cpr = $1',
    [cpr],
  );
  const row = rows[0];
  if (!row) {
    return { known: false, gp: undefined };
  }
  return {
    known: true,
    gp: row.id && row.resource ? { id: row.id, sor: row.sor, name: row.name, resource: row.resource } : undefined,
  };
}

/**
 * The endpoint to deliver to: an active endpoint managed by the organisation or listed in its
 * Organization.endpoint, of a connection type the gateway speaks, FHIR messaging preferred.
 */
export async function findDeliveryEndpoint(db: Queryable, org: OrganizationRow): Promise<EndpointRow | undefined> {
  const listed = (org.resource.endpoint ?? [])
    .map((ref) => /^Endpoint\/(.+)$/.exec(ref.reference ?? '')?.[1])
    .filter((id): id is string => id !== undefined);
  const rows = await cachedQuery<EndpointRow>(
    db,
    'directory',
    undefined,
    `SELECT id, organization_id, connection_type, address, status, resource FROM endpoints
      WHERE status = 'active' AND (organization_id = $1 OR id = ANY($2::text[]))`,
    [org.id, listed],
  );
  const rank = (row: EndpointRow) => DELIVERABLE_CONNECTION_TYPES.indexOf(row.connection_type as ConnectionType);
  return rows.filter((row) => rank(row) >= 0).sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id))[0];
}
