import type { Application } from 'express';
import { DIRECTORY_TYPES } from '../../src/directory/search-directory';
import { openApiDocument } from '../../src/validation/request-schemas';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * The contract stays complete: every route the gateway serves is described in openapi.yaml, and every
 * operation openapi.yaml describes is served. Express path parameters (`:id`) are compared as OpenAPI
 * templates (`{id}`); the directory's generic `/fhir/:type` routes stand for each type they serve, as
 * openapi.yaml lists them one by one.
 */
interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

function servedOperations(app: Application): Set<string> {
  const found = new Set<string>();
  const walk = (stack: readonly Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on && method !== '_all') {
              // path-to-regexp 8 needs `$` escaped in a path; OpenAPI does not.
              const template = path.replace(/\\\$/g, '$').replace(/:(\w+)/g, '{$1}');
              const concrete = template.includes('{type}')
                ? DIRECTORY_TYPES.map((type) => template.replace('{type}', type))
                : [template];
              for (const p of concrete) {
                found.add(`${method.toUpperCase()} ${p}`);
              }
            }
          }
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function describedOperations(): Set<string> {
  const found = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of METHODS) {
      if ((item as Record<string, unknown>)[method]) {
        found.add(`${method.toUpperCase()} ${path}`);
      }
    }
  }
  return found;
}

describe('openapi.yaml covers the routes', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  it('describes every route the gateway serves', () => {
    const described = describedOperations();
    const missing = [...servedOperations(t.gateway.app)].filter((op) => !described.has(op));
    expect(missing).toEqual([]);
  });

  it('serves every operation it describes', () => {
    const served = servedOperations(t.gateway.app);
    // Mounted by other libraries (Swagger UI, the Bull Board), not by route definitions of ours.
    const mounted = ['GET /docs', 'GET /admin/queues'];
    const unserved = [...describedOperations()].filter((op) => !served.has(op) && !mounted.includes(op));
    expect(unserved).toEqual([]);
  });
});
