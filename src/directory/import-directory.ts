import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Endpoint, Organization, Patient, Reference } from 'fhir/r4';
import { fhirJsonShapeIssues } from '../validation/fhir-input-rules';
import { errors, issue, outcome, type IssueInput } from '../errors';
import { SYSTEM } from '../mappers/systems';
import { urlRefusal, type OutboundPolicy } from '../outbound/address-policy';
import { json, type Db, type Queryable } from '../store/db';
import { GLN_SYSTEMS, isValidGln } from '../mappers/medcom/gln';
import { kindOfOrganization } from './organization-kind';
import type { FhirValidator } from '../validation/fhir-validator';

/**
 * Loads Organization, Endpoint and Patient resources from a batch or transaction Bundle into the
 * directory (POST /fhir and DIRECTORY_FILE). References between entries (urn:uuid fullUrls, relative
 * references, or identifier references to a SOR) are resolved to the stored ids. Existing records are
 * matched by their natural key (SOR, CPR, Endpoint identifier or address) and updated in place. An Endpoint
 * whose address the outbound policy refuses (the gateway itself, loopback, private, link-local) is refused
 * with 400 naming Endpoint.address; deliveries check the resolved address again when they connect.
 */
type DirectoryResource = Organization | Endpoint | Patient;
const TYPE_ORDER = ['Organization', 'Endpoint', 'Patient'] as const;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const CPR = /^[0-9]{10}$/;

interface Planned {
  index: number;
  fullUrl: string | undefined;
  resource: DirectoryResource;
  id: string;
  existed: boolean;
}

/**
 * @param outbound - when given, an Endpoint.address the outbound policy refuses is that entry's 400.
 * @param validator - when given, each entry's resource must be valid R4 (types, cardinality, FHIR JSON shape)
 *   before anything reads it; an invalid one is that entry's 400 (a batch) or the whole Bundle's (a transaction).
 */
export async function importDirectoryBundle(
  db: Db,
  input: unknown,
  outbound?: OutboundPolicy,
  validator?: Pick<FhirValidator, 'validate'>,
): Promise<Bundle> {
  const bundle = assertDirectoryBundle(input);
  const transactional = bundle.type === 'transaction';
  const entries = bundle.entry ?? [];

  const problems: Array<{ index: number; issue: IssueInput }> = [];
  entries.forEach((entry, index) => {
    const problem = checkEntry(entry, index, outbound, validator);
    if (problem) {
      problems.push({ index, issue: problem });
    }
  });
  if (transactional && problems.length > 0) {
    throw errors.invalid(...problems.map((p) => p.issue));
  }

  const planned = await db.transaction((tx) => planIds(tx, entries, new Set(problems.map((p) => p.index))));
  const references = referenceMap(planned);
  const results: BundleEntry[] = entries.map(() => ({}));
  for (const p of problems) {
    results[p.index] = entryError(400, p.issue);
  }

  const ordered = [...planned].sort(
    (a, b) =>
      TYPE_ORDER.indexOf(a.resource.resourceType) - TYPE_ORDER.indexOf(b.resource.resourceType) || a.index - b.index,
  );
  const store = async (tx: Queryable, p: Planned): Promise<void> => {
    const resource = rewriteReferences(p.resource, references);
    resource.id = p.id;
    await storeResource(tx, resource);
    results[p.index] = {
      response: { status: p.existed ? '200 OK' : '201 Created', location: `${resource.resourceType}/${p.id}` },
    };
  };

  if (transactional) {
    await db.transaction(async (tx) => {
      for (const p of ordered) {
        await store(tx, p).catch((e: unknown) => {
          throw errors.invalid({
            diagnostics: `entry[${p.index}]: ${describe(e)}`,
            expression: `Bundle.entry[${p.index}].resource`,
          });
        });
      }
    });
  } else {
    for (const p of ordered) {
      await db
        .transaction((tx) => store(tx, p))
        .catch((e: unknown) => {
          results[p.index] = entryError(422, {
            diagnostics: describe(e),
            expression: `Bundle.entry[${p.index}].resource`,
          });
        });
    }
  }
  return {
    resourceType: 'Bundle',
    type: transactional ? 'transaction-response' : 'batch-response',
    // FHIR JSON has no empty arrays: a Bundle with no entries is answered with none.
    ...(results.length > 0 ? { entry: results } : {}),
  };
}

function assertDirectoryBundle(input: unknown): Bundle {
  const bundle = input as Partial<Bundle> | null;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw errors.invalid({ diagnostics: 'resourceType must be "Bundle"', expression: 'resourceType' });
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw errors.invalid({
      diagnostics: `Bundle.type must be "batch" or "transaction", not "${String(bundle.type)}"`,
      expression: 'Bundle.type',
    });
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) {
    throw errors.invalid({ diagnostics: 'Bundle.entry must be an array', expression: 'Bundle.entry' });
  }
  // The envelope is FHIR JSON too (no empty arrays or objects, no nulls): each entry's resource is checked on its
  // own (checkEntry); an answer built from a malformed envelope (`entry: []`) would itself be invalid FHIR.
  const { entry, ...rest } = bundle;
  const envelope = fhirJsonShapeIssues(entry?.length === 0 ? { ...rest, entry } : rest);
  if (envelope.length > 0) {
    throw errors.invalid(
      ...envelope.map((i) => ({ diagnostics: i.diagnostics ?? 'invalid', expression: i.expression?.[0] })),
    );
  }
  return bundle as Bundle;
}

function checkEntry(
  entry: BundleEntry | null,
  index: number,
  outbound: OutboundPolicy | undefined,
  validator: Pick<FhirValidator, 'validate'> | undefined,
): IssueInput | undefined {
  const at = `Bundle.entry[${index}].resource`;
  const resource = (entry && typeof entry === 'object' ? entry.resource : undefined) as DirectoryResource | undefined;
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    return { diagnostics: `entry[${index}] has no resource`, expression: at };
  }
  if (!(TYPE_ORDER as readonly string[]).includes(resource.resourceType)) {
    return {
      diagnostics: `entry[${index}]: only Organization, Endpoint and Patient can be loaded, not ${resource.resourceType}`,
      expression: `${at}.resourceType`,
    };
  }
  const invalid = validator?.validate(resource).find((i) => i.severity === 'error' || i.severity === 'fatal');
  if (invalid) {
    return {
      diagnostics: `entry[${index}]: ${invalid.diagnostics ?? 'not a valid R4 resource'}`,
      expression: invalid.expression?.[0]?.replace(/^[A-Za-z]+/, at) ?? at,
    };
  }
  if (resource.id !== undefined && !FHIR_ID.test(resource.id)) {
    return { diagnostics: `entry[${index}]: id "${resource.id}" is not a valid FHIR id`, expression: `${at}.id` };
  }
  switch (resource.resourceType) {
    case 'Organization':
      if (!identifierValue(resource.identifier, SYSTEM.sor) && !resource.identifier?.some((i) => i.system && i.value)) {
        return {
          diagnostics: `entry[${index}]: Organization needs an identifier (SOR ${SYSTEM.sor}, or a municipality code or CVR)`,
          expression: `${at}.identifier`,
        };
      }
      {
        // GLN under either system URI (dk-core ≤ 3.4.0 https://, 3.5.0 http://): 13 digits, GS1 check digit
        const gln = resource.identifier?.find((i) => i.system !== undefined && GLN_SYSTEMS.includes(i.system));
        if (gln && !isValidGln(gln.value ?? '')) {
          return {
            diagnostics: `entry[${index}]: GLN "${gln.value ?? ''}" is not 13 digits with a valid GS1 check digit`,
            expression: `${at}.identifier`,
          };
        }
      }
      return undefined;
    case 'Patient': {
      const cpr = identifierValue(resource.identifier, SYSTEM.cpr);
      if (!cpr || !CPR.test(cpr)) {
        return {
          diagnostics: `entry[${index}]: Patient needs a CPR identifier (system ${SYSTEM.cpr}, 10 digits)`,
          expression: `${at}.identifier`,
        };
      }
      return undefined;
    }
    case 'Endpoint': {
      const code = resource.connectionType?.code;
      if (!code) {
        return {
          diagnostics: `entry[${index}]: Endpoint.connectionType.code is required`,
          expression: `${at}.connectionType`,
        };
      }
      if (typeof resource.address !== 'string' || !/^https?:\/\/\S+$/.test(resource.address)) {
        return { diagnostics: `entry[${index}]: Endpoint.address must be an http(s) URL`, expression: `${at}.address` };
      }
      const refused =
        outbound && URL.canParse(resource.address) ? urlRefusal(new URL(resource.address), outbound) : undefined;
      if (refused) {
        return {
          diagnostics: `entry[${index}]: Endpoint.address refused, ${refused}`,
          expression: `${at}.address`,
          reason: 'endpoint-refused',
        };
      }
      if (!['active', 'suspended', 'error', 'off', 'entered-in-error', 'test'].includes(resource.status)) {
        return {
          diagnostics: `entry[${index}]: Endpoint.status must be a FHIR endpoint status`,
          expression: `${at}.status`,
        };
      }
      return undefined;
    }
  }
}

async function planIds(tx: Queryable, entries: BundleEntry[], skip: Set<number>): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const [index, entry] of entries.entries()) {
    if (skip.has(index)) {
      continue;
    }
    const resource = structuredClone(entry.resource) as DirectoryResource;
    const existing = await findExistingId(tx, resource, index);
    const requested = /^[A-Za-z]+\/([A-Za-z0-9\-.]{1,64})$/.exec(entry.request?.url ?? '')?.[1];
    const id = existing ?? requested ?? resource.id ?? randomUUID();
    planned.push({ index, fullUrl: entry.fullUrl, resource, id, existed: existing !== undefined });
  }
  return planned;
}

async function findExistingId(tx: Queryable, resource: DirectoryResource, index: number): Promise<string | undefined> {
  let rows: Array<{ id: string }> = [];
  if (resource.resourceType === 'Organization') {
    const sor = identifierValue(resource.identifier, SYSTEM.sor);
    rows = sor ? await tx.query('SELECT id FROM organizations WHERE sor = $1', [sor]) : [];
    // Without a SOR code (a jobcentre by municipality code, an employer by CVR) its identifier matches, among
    // organisations of its kind only: the jobcentre must not overwrite the home-care unit sharing its municipality code.
    const other = (resource.identifier ?? []).find((i) => i.system && i.value);
    if (rows.length === 0 && !sor && other) {
      const kind = kindOfOrganization(resource);
      const found = await tx.query<{ id: string; resource: Organization }>(
        "SELECT id, resource FROM organizations WHERE resource->'identifier' @> $1::jsonb ORDER BY id",
        [JSON.stringify([{ system: other.system, value: other.value }])],
      );
      rows = found.filter((row) => kindOfOrganization(row.resource) === kind);
      if (rows.length > 1) {
        throw errors.unprocessable({
          diagnostics: `entry[${index}]: ${rows.length} organisations of the same kind in the directory have the identifier ${other.system ?? ''}|${other.value ?? ''}; give this one its SOR code or its id`,
          expression: `Bundle.entry[${index}].resource.identifier`,
          reason: 'ambiguous-recipient',
        });
      }
    }
    if (rows.length === 0 && resource.id) {
      rows = await tx.query('SELECT id FROM organizations WHERE id = $1', [resource.id]);
    }
  } else if (resource.resourceType === 'Patient') {
    rows = await tx.query('SELECT id FROM patients WHERE cpr = $1', [identifierValue(resource.identifier, SYSTEM.cpr)]);
  } else if (resource.id) {
    rows = await tx.query('SELECT id FROM endpoints WHERE id = $1', [resource.id]);
  }
  return rows[0]?.id;
}

function referenceMap(planned: Planned[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of planned) {
    const target = `${p.resource.resourceType}/${p.id}`;
    if (p.fullUrl) {
      map.set(p.fullUrl, target);
    }
    if (p.resource.id) {
      map.set(`${p.resource.resourceType}/${p.resource.id}`, target);
    }
    if (p.resource.resourceType === 'Organization') {
      const sor = identifierValue(p.resource.identifier, SYSTEM.sor);
      if (sor) {
        map.set(`sor|${sor}`, target);
      }
    }
  }
  return map;
}

function rewriteReferences<T extends DirectoryResource>(resource: T, map: Map<string, string>): T {
  const fix = (ref: Reference | undefined): Reference | undefined => {
    if (!ref) {
      return ref;
    }
    const byRef = ref.reference ? map.get(ref.reference) : undefined;
    const bySor =
      ref.identifier?.system === SYSTEM.sor && ref.identifier.value
        ? map.get(`sor|${ref.identifier.value}`)
        : undefined;
    const target = byRef ?? bySor;
    return target ? { ...ref, reference: target } : ref;
  };
  const copy = structuredClone(resource);
  if (copy.resourceType === 'Patient') {
    copy.generalPractitioner = copy.generalPractitioner?.map((r) => fix(r) ?? r);
    copy.managingOrganization = fix(copy.managingOrganization);
    // the municipal care unit of directory/municipal-care.ts, named like the GP (fullUrl, id or SOR)
    for (const care of copy.extension ?? []) {
      for (const part of care.url === SYSTEM.municipalCare ? (care.extension ?? []) : []) {
        if (part.url === 'provider' && part.valueReference) {
          part.valueReference = fix(part.valueReference);
        }
      }
    }
  } else if (copy.resourceType === 'Organization') {
    copy.endpoint = copy.endpoint?.map((r) => fix(r) ?? r);
    copy.partOf = fix(copy.partOf);
  } else {
    copy.managingOrganization = fix(copy.managingOrganization);
  }
  return copy;
}

async function storeResource(tx: Queryable, resource: DirectoryResource): Promise<void> {
  switch (resource.resourceType) {
    case 'Organization':
      await tx.query(
        `INSERT INTO organizations (id, sor, name, resource) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (id) DO UPDATE SET sor = EXCLUDED.sor, name = EXCLUDED.name, resource = EXCLUDED.resource, updated_at = now()`,
        [resource.id, identifierValue(resource.identifier, SYSTEM.sor) ?? null, resource.name ?? null, json(resource)],
      );
      return;
    case 'Endpoint':
      await tx.query(
        `INSERT INTO endpoints (id, organization_id, connection_type, address, status, resource) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (id) DO UPDATE SET organization_id = EXCLUDED.organization_id, connection_type = EXCLUDED.connection_type,
           address = EXCLUDED.address, status = EXCLUDED.status, resource = EXCLUDED.resource, updated_at = now()`,
        [
          resource.id,
          localId(resource.managingOrganization, 'Organization') ?? null,
          resource.connectionType.code,
          resource.address.replace(/\/+$/, ''),
          resource.status,
          json(resource),
        ],
      );
      return;
    case 'Patient': {
      const gp = await gpOrganizationId(tx, resource);
      await tx.query(
        `INSERT INTO patients (id, cpr, gp_organization_id, resource) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (id) DO UPDATE SET cpr = EXCLUDED.cpr, gp_organization_id = EXCLUDED.gp_organization_id,
           resource = EXCLUDED.resource, updated_at = now()`,
        [resource.id, identifierValue(resource.identifier, SYSTEM.cpr), gp ?? null, json(resource)],
      );
      return;
    }
  }
}

/** The listed GP: the first generalPractitioner that is (or identifies by SOR) a known Organization. */
async function gpOrganizationId(tx: Queryable, patient: Patient): Promise<string | undefined> {
  for (const ref of patient.generalPractitioner ?? []) {
    const id = localId(ref, 'Organization');
    if (id) {
      return id;
    }
    if (ref.identifier?.system === SYSTEM.sor && ref.identifier.value) {
      const rows = await tx.query<{ id: string }>('SELECT id FROM organizations WHERE sor = $1', [
        ref.identifier.value,
      ]);
      if (rows[0]) {
        return rows[0].id;
      }
    }
  }
  return undefined;
}

function localId(ref: Reference | undefined, type: string): string | undefined {
  const match = new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(ref?.reference ?? '');
  return match?.[1];
}

export function identifierValue(
  identifiers: Array<{ system?: string; value?: string }> | undefined,
  system: string,
): string | undefined {
  return identifiers?.find((i) => i.system === system)?.value;
}

function entryError(status: number, problem: IssueInput): BundleEntry {
  return { response: { status: String(status), outcome: outcome([issue(problem)]) } };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : 'could not be stored';
}
