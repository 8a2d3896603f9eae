import { randomUUID } from 'node:crypto';
import type { Bundle, Consent } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { errors } from '../errors';
import type { Db } from '../store/db';
import { withDatabase } from '../store/unavailable';
import type { FhirValidator } from '../validation/fhir-validator';
import { assertConsentShape, assertMayRecordConsent, consentPatientCpr, maySeeConsent } from './consent-rules';
import { getConsent, insertConsent, searchConsents, updateConsent, type ConsentRow } from './consent-store';

/** Recording, reading, changing and withdrawing consents, with the rules of consent-rules.ts. */
export interface ConsentDeps {
  db: Db;
  validator: FhirValidator;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function checked(deps: ConsentDeps, client: GatewayClient, body: unknown): Consent {
  const errorsFound = deps.validator.validate(body).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errorsFound.length > 0) {
    throw errors.invalid(...errorsFound.slice(0, 20).map((i) => ({ diagnostics: i.diagnostics ?? 'invalid', expression: i.expression?.[0] })));
  }
  const consent = assertConsentShape(body);
  assertMayRecordConsent(client, consent);
  return consent;
}

function orgKey(client: GatewayClient): string {
  return `${client.organization.system}|${client.organization.value}`;
}

function withMeta(consent: Consent, id: string, version: number, now: Date): Consent {
  return { ...consent, id, meta: { ...consent.meta, versionId: String(version), lastUpdated: now.toISOString() } };
}

export async function createConsent(deps: ConsentDeps, client: GatewayClient, body: unknown): Promise<Consent> {
  const consent = checked(deps, client, body);
  const id = randomUUID();
  const stored = withMeta(consent, id, 1, new Date());
  await withDatabase(() =>
    deps.db.transaction((tx) =>
      insertConsent(tx, { id, patient_cpr: consentPatientCpr(stored) ?? '', status: stored.status, recorded_by_client: client.id, recorded_by_org: orgKey(client), resource: stored }),
    ),
  );
  return stored;
}

export async function readConsent(deps: ConsentDeps, client: GatewayClient, id: string): Promise<ConsentRow> {
  const row = FHIR_ID.test(id) ? await withDatabase(() => getConsent(deps.db, id)) : undefined;
  // Someone else's consent is reported as absent: that it exists is itself information about the patient.
  if (!row || !maySeeConsent(client, row.resource, row.recorded_by_org)) {
    throw errors.notFound(`Consent/${id} not found`);
  }
  return row;
}

export async function replaceConsent(deps: ConsentDeps, client: GatewayClient, id: string, body: unknown): Promise<Consent> {
  const row = await readConsent(deps, client, id);
  const consent = checked(deps, client, body);
  if (consentPatientCpr(consent) !== row.patient_cpr) {
    throw errors.invalid({ diagnostics: 'Consent.patient: a consent cannot be moved to another patient; record a new one', expression: 'Consent.patient' });
  }
  const stored = withMeta(consent, id, row.version + 1, new Date());
  const ok = await withDatabase(() => deps.db.transaction((tx) => updateConsent(tx, id, stored, stored.status, row.version)));
  if (!ok) {
    throw errors.conflict(`Consent/${id} was changed by someone else meanwhile; read it again and retry`, 'version-conflict');
  }
  return stored;
}

/** DELETE keeps the record: the consent becomes inactive, so the history of what was allowed survives. */
export async function withdrawConsent(deps: ConsentDeps, client: GatewayClient, id: string): Promise<Consent> {
  const row = await readConsent(deps, client, id);
  if (client.role !== 'admin' && client.role !== 'patient' && row.recorded_by_org !== orgKey(client)) {
    throw errors.forbidden('only the patient, an admin or the organisation that recorded a consent may withdraw it', 'not-consent-owner');
  }
  const stored = withMeta({ ...row.resource, status: 'inactive' }, id, row.version + 1, new Date());
  await withDatabase(() => deps.db.transaction((tx) => updateConsent(tx, id, stored, 'inactive', row.version)));
  return stored;
}

export async function findConsents(deps: ConsentDeps, client: GatewayClient, query: { patient?: string; status?: string; actor?: string }): Promise<Bundle> {
  const cpr = query.patient?.replace(/^.*\|/, '');
  if (cpr !== undefined && !/^[0-9]{10}$/.test(cpr)) {
    throw errors.invalid({ diagnostics: 'patient: a CPR number (10 digits), optionally as urn:oid:1.2.208.176.1.2|<cpr>', expression: 'patient' });
  }
  if (client.role === 'patient' && cpr !== client.patientCpr) {
    throw errors.forbidden('a patient may search their own consents only (patient=<own CPR>)', 'not-own-consent');
  }
  if (client.role !== 'admin' && cpr === undefined) {
    throw errors.invalid({ diagnostics: 'patient: required unless you are an admin', expression: 'patient' });
  }
  const rows = await withDatabase(() => searchConsents(deps.db, { patientCpr: cpr, status: query.status }));
  const actor = query.actor?.split('|');
  const visible = rows
    .filter((r) => maySeeConsent(client, r.resource, r.recorded_by_org))
    .filter((r) => !actor || JSON.stringify(r.resource.provision ?? {}).includes(`"value":"${actor[actor.length - 1] ?? ''}"`));
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: visible.length,
    entry: visible.map((r) => ({ fullUrl: `Consent/${r.id}`, resource: r.resource, search: { mode: 'match' } })),
  };
}
