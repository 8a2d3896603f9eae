import type { Bundle, Resource } from 'fhir/r4';
import { errors } from '../errors';
import type { Queryable } from '../store/db';
import { bundleEntries } from '../mappers/bundle-entries';

/**
 * Reading the directory as FHIR: read by id, and search by identifier (system|value or value) or, for
 * Endpoint, by managing organisation. Unknown search parameters are refused rather than ignored, so a
 * caller never mistakes an unfiltered list for an answer.
 */
const TABLES = { Organization: 'organizations', Patient: 'patients', Endpoint: 'endpoints' } as const;
export type DirectoryType = keyof typeof TABLES;
/** The resource types the generic /fhir/{type} routes serve. */
export const DIRECTORY_TYPES = Object.keys(TABLES) as DirectoryType[];
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertDirectoryType(type: string): DirectoryType {
  if (!(type in TABLES)) {
    throw errors.notFound({
      diagnostics: `resource type ${type} is not served here (Organization, Patient, Endpoint)`,
    });
  }
  return type as DirectoryType;
}

export async function readDirectoryResource(db: Queryable, type: DirectoryType, id: string): Promise<Resource> {
  const rows = FHIR_ID.test(id)
    ? await db.query<{ resource: Resource }>(`SELECT resource FROM ${TABLES[type]} WHERE id = $1`, [id])
    : [];
  const row = rows[0];
  if (!row) {
    throw errors.notFound({ diagnostics: `${type}/${id} not found` });
  }
  return row.resource;
}

export async function searchDirectory(
  db: Queryable,
  type: DirectoryType,
  query: Record<string, unknown>,
): Promise<Bundle> {
  const { sql, params } = searchSql(type, query);
  const rows = await db.query<{ resource: Resource }>(sql, params);
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: rows.length,
    ...bundleEntries(
      rows.map((r) => ({
        fullUrl: `${type}/${r.resource.id ?? ''}`,
        resource: r.resource,
        search: { mode: 'match' },
      })),
    ),
  };
}

function searchSql(type: DirectoryType, query: Record<string, unknown>): { sql: string; params: unknown[] } {
  const base = `SELECT resource FROM ${TABLES[type]}`;
  const known = type === 'Endpoint' ? ['identifier', 'organization'] : ['identifier'];
  const unknown = Object.keys(query).filter((k) => !known.includes(k) && !k.startsWith('_'));
  if (unknown.length > 0) {
    throw errors.invalid({
      diagnostics: `search parameter ${unknown.join(', ')} is not supported on ${type} (supported: ${known.join(', ')})`,
      expression: unknown[0],
    });
  }
  const { identifier, organization } = query;
  if (typeof identifier === 'string') {
    const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : [undefined, identifier];
    return {
      sql: `${base} WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(resource->'identifier', '[]'::jsonb)) i
              WHERE i->>'value' = $1 AND ($2::text IS NULL OR i->>'system' = $2)) ORDER BY id LIMIT 100`,
      params: [value, system || null],
    };
  }
  if (type === 'Endpoint' && typeof organization === 'string') {
    return {
      sql: `${base} WHERE organization_id = $1 ORDER BY id LIMIT 100`,
      params: [organization.replace(/^Organization\//, '')],
    };
  }
  return { sql: `${base} ORDER BY id LIMIT 100`, params: [] };
}
