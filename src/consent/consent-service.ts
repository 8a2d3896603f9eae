import { randomUUID } from 'node:crypto';
import type { Bundle, Consent } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { errors } from '../errors';
import type { Db } from '../store/db';
import type { FhirValidator } from '../validation/fhir-validator';
import { recordConsentAudit } from '../audit/record-audit';
import { findOrganizationBySor } from '../directory/directory';
import { SYSTEM } from '../mappers/systems';
import type { Queryable } from '../store/db';
import { sectorOfIdentifier } from './consent-grants';
import {
  assertConsentShape,
  assertMayRecordConsent,
  consentPatientCpr,
  mayChangeConsent,
  maySeeConsent,
} from './consent-rules';
import {
  consentVersions,
  getConsent,
  insertConsent,
  searchConsents,
  updateConsent,
  type ConsentChanger,
  type ConsentRow,
} from './consent-store';
import { sectorOfOrganization } from './disclosure-guard';
import type { DisclosurePolicy, Sector } from './evaluate-consent';
import { readProvisions } from './provisions';
import { assertValidFhirInput } from '../validation/valid-fhir-input';
import { bundleEntries } from '../mappers/bundle-entries';

/**
 * Recording, reading, changing and withdrawing consents, with the rules of consent-rules.ts. Every change is a
 * new version (meta.versionId, the old ones kept in consent_versions: GET /fhir/Consent/{id}/_history) and an
 * AuditEvent in the patient's disclosure log, both in the transaction that makes it.
 */
export interface ConsentDeps {
  db: Db;
  validator: FhirValidator;
  /** The disclosure policy: its grants decide who may record what. */
  policy: DisclosurePolicy;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

async function checked(deps: ConsentDeps, client: GatewayClient, body: unknown): Promise<Consent> {
  assertValidFhirInput(deps.validator, body);
  const consent = assertConsentShape(body);
  const sectors = await actorSectors(deps.db, consent);
  assertMayRecordConsent(client, consent, {
    policy: deps.policy,
    sectorOf: (a) => sectors.get(`${a.system}|${a.value}`),
  });
  return consent;
}

/** The sector of every actor the consent names; SOR codes as the directory has them now (unknown: undefined). */
async function actorSectors(db: Queryable, consent: Consent): Promise<Map<string, Sector | undefined>> {
  const sectors = new Map<string, Sector | undefined>();
  for (const actor of readProvisions(consent).flatMap((r) => r.actors)) {
    const key = `${actor.system}|${actor.value}`;
    if (sectors.has(key)) {
      continue;
    }
    if (actor.system === SYSTEM.sor) {
      const org = await findOrganizationBySor(db, actor.value);
      sectors.set(key, org ? sectorOfOrganization(org.resource) : undefined);
    } else {
      sectors.set(key, sectorOfIdentifier(actor));
    }
  }
  return sectors;
}

function orgKey(client: GatewayClient): string {
  return `${client.organization.system}|${client.organization.value}`;
}

function changer(client: GatewayClient): ConsentChanger {
  return { clientId: client.id, org: orgKey(client), role: client.role };
}

/**
 * Who owns a consent besides the patient and admins: the organisation that recorded it, while only it has
 * changed it. What the patient (or an admin, on the patient's behalf) has recorded or changed is the patient's.
 */
function ownerAfter(client: GatewayClient, current: string | null): string | null {
  return client.role === 'admin' || client.role === 'patient' ? null : (current ?? orgKey(client));
}

function withMeta(consent: Consent, id: string, version: number, now: Date): Consent {
  return { ...consent, id, meta: { ...consent.meta, versionId: String(version), lastUpdated: now.toISOString() } };
}

export async function createConsent(deps: ConsentDeps, client: GatewayClient, body: unknown): Promise<Consent> {
  const consent = await checked(deps, client, body);
  const id = randomUUID();
  const now = new Date();
  const stored = withMeta(consent, id, 1, now);
  const patientCpr = consentPatientCpr(stored) ?? '';
  await deps.db.transaction(async (tx) => {
    await insertConsent(
      tx,
      { id, patient_cpr: patientCpr, status: stored.status, owner_org: ownerAfter(client, null), resource: stored },
      changer(client),
    );
    await recordConsentAudit(tx, {
      action: 'consent-recorded',
      consentId: id,
      version: 1,
      patientCpr,
      by: { clientId: client.id, role: client.role, organization: client.organization },
      after: stored,
      recorded: now,
    });
  });
  return stored;
}

export async function readConsent(deps: ConsentDeps, client: GatewayClient, id: string): Promise<ConsentRow> {
  const row = FHIR_ID.test(id) ? await getConsent(deps.db, id) : undefined;
  // Someone else's consent is reported as absent: that it exists is itself information about the patient.
  if (!row || !maySeeConsent(client, row.resource, row.recorded_by_org)) {
    throw errors.notFound({ diagnostics: `Consent/${id} not found` });
  }
  return row;
}

/**
 * The consent as one the client may change: else 404, the same answer as for one that does not exist, also to
 * an organisation that may read it because it is named in it (it learns nothing, and nothing changes).
 */
async function changeableConsent(deps: ConsentDeps, client: GatewayClient, id: string): Promise<ConsentRow> {
  const row = await readConsent(deps, client, id);
  if (!mayChangeConsent(client, row.resource, row.owner_org)) {
    throw errors.notFound({
      diagnostics: `Consent/${id} not found among the consents you may change (only the patient, an admin or the organisation that recorded it may)`,
    });
  }
  return row;
}

export async function replaceConsent(
  deps: ConsentDeps,
  client: GatewayClient,
  id: string,
  body: unknown,
): Promise<Consent> {
  const row = await changeableConsent(deps, client, id);
  const consent = await checked(deps, client, body);
  if (consentPatientCpr(consent) !== row.patient_cpr) {
    throw errors.invalid({
      diagnostics: 'Consent.patient: a consent cannot be moved to another patient; record a new one',
      expression: 'Consent.patient',
      reason: 'invalid-value',
    });
  }
  const now = new Date();
  const stored = withMeta(consent, id, row.version + 1, now);
  await saveVersion(deps, client, row, stored, 'update', now);
  return stored;
}

/** DELETE keeps the record: the consent becomes inactive, so the history of what was allowed survives. */
export async function withdrawConsent(deps: ConsentDeps, client: GatewayClient, id: string): Promise<Consent> {
  const row = await changeableConsent(deps, client, id);
  const now = new Date();
  const stored = withMeta({ ...row.resource, status: 'inactive' }, id, row.version + 1, now);
  await saveVersion(deps, client, row, stored, 'withdraw', now);
  return stored;
}

async function saveVersion(
  deps: ConsentDeps,
  client: GatewayClient,
  row: ConsentRow,
  stored: Consent,
  action: 'update' | 'withdraw',
  now: Date,
): Promise<void> {
  const ok = await deps.db.transaction(async (tx) => {
    const saved = await updateConsent(
      tx,
      row.id,
      { resource: stored, status: stored.status, ownerOrg: ownerAfter(client, row.owner_org), action },
      row.version,
      changer(client),
    );
    if (saved) {
      await recordConsentAudit(tx, {
        action: action === 'withdraw' ? 'consent-withdrawn' : 'consent-changed',
        consentId: row.id,
        version: row.version + 1,
        patientCpr: row.patient_cpr,
        by: { clientId: client.id, role: client.role, organization: client.organization },
        before: row.resource,
        after: stored,
        recorded: now,
      });
    }
    return saved;
  });
  if (!ok) {
    throw errors.conflict({
      diagnostics: `Consent/${row.id} was changed by someone else meanwhile; read it again and retry`,
      reason: 'version-conflict',
    });
  }
}

/**
 * GET /fhir/Consent/{id}/_history: every version, newest first, as a FHIR history Bundle (request says how each
 * came about: POST, PUT, or DELETE for a withdrawal, which keeps the record). Visible to whoever may read it.
 */
export async function consentHistory(
  deps: ConsentDeps,
  client: GatewayClient,
  id: string,
  baseUrl: string,
): Promise<Bundle> {
  const versions = await visibleVersions(deps, client, id);
  if (versions.length === 0) {
    throw errors.notFound({ diagnostics: `Consent/${id} not found` });
  }
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: versions.length,
    ...bundleEntries(
      versions.map((v) => ({
        fullUrl: `${baseUrl}/Consent/${id}`,
        resource: v.resource,
        request: {
          method: v.action === 'create' ? 'POST' : v.action === 'withdraw' ? 'DELETE' : 'PUT',
          url: v.action === 'create' ? 'Consent' : `Consent/${id}`,
        },
        response: {
          status: v.action === 'create' ? '201' : '200',
          etag: `W/"${v.version}"`,
          lastModified: new Date(v.changed_at).toISOString(),
        },
      })),
    ),
  };
}

/**
 * The versions of a consent the client may read, each decided on its own content: the patient, an admin and the
 * organisation that recorded the consent read every version; an organisation named in a version reads that
 * version only (one named in the current version learns nothing from an old one it was not party to, and one
 * dropped from the current version still sees the version that named it). None: the consent is reported absent.
 */
async function visibleVersions(deps: ConsentDeps, client: GatewayClient, id: string) {
  const row = FHIR_ID.test(id) ? await getConsent(deps.db, id) : undefined;
  if (!row) {
    return [];
  }
  const versions = await consentVersions(deps.db, id);
  return versions.filter((v) => maySeeConsent(client, v.resource, row.recorded_by_org));
}

/** GET /fhir/Consent/{id}/_history/{vid}: one version as it was stored, to whoever may read that version. */
export async function consentVersion(
  deps: ConsentDeps,
  client: GatewayClient,
  id: string,
  vid: string,
): Promise<Consent> {
  const found = /^[0-9]{1,9}$/.test(vid)
    ? (await visibleVersions(deps, client, id)).find((v) => v.version === Number(vid))
    : undefined;
  if (!found) {
    throw errors.notFound({ diagnostics: `Consent/${id}/_history/${vid} not found` });
  }
  return found.resource;
}

export async function findConsents(
  deps: ConsentDeps,
  client: GatewayClient,
  query: { patient?: string; status?: string; actor?: string },
): Promise<Bundle> {
  const cpr = query.patient?.replace(/^.*\|/, '');
  if (cpr !== undefined && !/^[0-9]{10}$/.test(cpr)) {
    throw errors.invalid({
      diagnostics: 'patient: a CPR number (10 digits), optionally as urn:oid:1.2.208.176.1.2|<cpr>',
      expression: 'patient',
    });
  }
  if (client.role === 'patient' && cpr !== client.patientCpr) {
    throw errors.forbidden({
      diagnostics: 'a patient may search their own consents only (patient=<own CPR>)',
      reason: 'not-own-consent',
    });
  }
  if (client.role !== 'admin' && cpr === undefined) {
    throw errors.invalid({ diagnostics: 'patient: required unless you are an admin', expression: 'patient' });
  }
  const rows = await searchConsents(deps.db, { patientCpr: cpr, status: query.status });
  const actor = query.actor?.split('|');
  const visible = rows
    .filter((r) => maySeeConsent(client, r.resource, r.recorded_by_org))
    .filter(
      (r) =>
        !actor || JSON.stringify(r.resource.provision ?? {}).includes(`"value":"${actor[actor.length - 1] ?? ''}"`),
    );
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: visible.length,
    ...bundleEntries(
      visible.map((r) => ({ fullUrl: `Consent/${r.id}`, resource: r.resource, search: { mode: 'match' } })),
    ),
  };
}
