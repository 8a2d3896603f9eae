import type { Bundle, Resource } from 'fhir/r4';
import { Router } from 'express';
import { requireRole } from '../auth/authenticate';
import { importDirectoryBundle } from '../directory/import-directory';
import { errors } from '../errors';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import type { Db } from '../store/db';
import { withDatabase } from '../store/unavailable';

const TABLES = { Organization: 'organizations', Patient: 'patients', Endpoint: 'endpoints' } as const;
type DirectoryType = keyof typeof TABLES;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The directory as a small FHIR API for admins: load with a batch/transaction Bundle, read and search. */
export function directoryRoutes(db: Db): Router {
  const router = Router();

  router.post('/fhir', requireRole('admin'), requireBody, async (req, res) => {
    const result = await withDatabase(() => importDirectoryBundle(db, req.body));
    sendFhir(res, 200, result);
  });

  router.get('/fhir/:type/:id', requireRole('admin'), async (req, res) => {
    const type = directoryType(String(req.params.type));
    const id = String(req.params.id);
    const rows = FHIR_ID.test(id) ? await withDatabase(() => db.query<{ resource: Resource }>(`SELECT resource FROM ${TABLES[type]} WHERE id = $1`, [id])) : [];
    const row = rows[0];
    if (!row) {
      throw errors.notFound(`${type}/${id} not found`);
    }
    sendFhir(res, 200, row.resource);
  });

  router.get('/fhir/:type', requireRole('admin'), async (req, res) => {
    const type = directoryType(String(req.params.type));
    const { sql, params } = searchSql(type, req.query);
    const rows = await withDatabase(() => db.query<{ resource: Resource }>(sql, params));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: rows.length,
      entry: rows.map((r) => ({ fullUrl: `${type}/${r.resource.id ?? ''}`, resource: r.resource, search: { mode: 'match' } })),
    };
    sendFhir(res, 200, bundle);
  });

  return router;
}

function directoryType(type: string): DirectoryType {
  if (!(type in TABLES)) {
    throw errors.notFound(`resource type ${type} is not served here (Organization, Patient, Endpoint)`);
  }
  return type as DirectoryType;
}

function searchSql(type: DirectoryType, query: Record<string, unknown>): { sql: string; params: unknown[] } {
  const base = `SELECT resource FROM ${TABLES[type]}`;
  const identifier = query.identifier;
  const organization = query.organization;
  const known = type === 'Endpoint' ? ['identifier', 'organization'] : ['identifier'];
  const unknown = Object.keys(query).filter((k) => !known.includes(k) && !k.startsWith('_'));
  if (unknown.length > 0) {
    throw errors.invalid({ diagnostics: `search parameter ${unknown.join(', ')} is not supported on ${type} (supported: ${known.join(', ')})`, expression: unknown[0] });
  }
  if (typeof identifier === 'string') {
    const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : [undefined, identifier];
    return {
      sql: `${base} WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(resource->'identifier', '[]'::jsonb)) i
              WHERE i->>'value' = $1 AND ($2::text IS NULL OR i->>'system' = $2)) ORDER BY id LIMIT 100`,
      params: [value, system || null],
    };
  }
  if (type === 'Endpoint' && typeof organization === 'string') {
    return { sql: `${base} WHERE organization_id = $1 ORDER BY id LIMIT 100`, params: [organization.replace(/^Organization\//, '')] };
  }
  return { sql: `${base} ORDER BY id LIMIT 100`, params: [] };
}
