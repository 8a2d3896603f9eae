import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * The directory's generic reads (GET /fhir/:type, /fhir/:type/:id) match every resource type. Every specific
 * FHIR read route must be reached before them: mounted earlier (app.ts finishApp), and answered by its own
 * handler, not by the directory's "resource type … is not served here".
 */
interface Layer {
  name?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

const GENERIC = new Set(['/fhir/:type', '/fhir/:type/:id']);

/** The GET routes under /fhir, with the position of the app-level layer that holds them. */
function fhirReadRoutes(tg: TestGateway): Array<{ at: number; path: string }> {
  const app = tg.gateway.app as unknown as { router: { stack: Layer[] } };
  return app.router.stack.flatMap((layer, at) =>
    [layer, ...(layer.handle?.stack ?? [])]
      .filter((l) => l.route?.methods.get && l.route.path.startsWith('/fhir'))
      .map((l) => ({ at, path: l.route!.path })),
  );
}

describe('FHIR read routes and the generic directory reads', () => {
  let tg: TestGateway;
  beforeAll(async () => {
    tg = await startTestGateway();
  });
  afterAll(async () => {
    await tg.close();
  });

  it('mounts the generic reads after every specific FHIR read route', () => {
    const routes = fhirReadRoutes(tg);
    const generic = routes.filter((r) => GENERIC.has(r.path));
    const specific = routes.filter((r) => !GENERIC.has(r.path));
    expect(generic.map((r) => r.path).sort()).toEqual([...GENERIC].sort());
    expect(specific.length).toBeGreaterThan(10);
    const firstGeneric = Math.min(...generic.map((r) => r.at));
    expect(specific.filter((r) => r.at > firstGeneric).map((r) => r.path)).toEqual([]);
  });

  it('answers every specific FHIR read from its own handler, never from the generic read (as admin)', async () => {
    const paths = fhirReadRoutes(tg)
      .filter((r) => !GENERIC.has(r.path))
      .map((r) => r.path.replace(/:[a-z]+/gi, '00000000-0000-4000-8000-000000000000').replace(/\\/g, ''));
    for (const path of paths) {
      const res = await tg.http.get(path).set('Authorization', `Bearer ${KEY.admin}`);
      expect({ path, body: JSON.stringify(res.body) }).not.toEqual({
        path,
        body: expect.stringContaining('is not served here'),
      });
    }
  });

  it('still serves the directory types and refuses others through the generic reads', async () => {
    const org = await tg.http.get('/fhir/Organization').set('Authorization', `Bearer ${KEY.admin}`);
    expect(org.status).toBe(200);
    const other = await tg.http.get('/fhir/Medication/x').set('Authorization', `Bearer ${KEY.admin}`);
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).toContain('is not served here');
    expect((await tg.http.get('/fhir/Organization').set('Authorization', `Bearer ${KEY.gp}`)).status).toBe(403);
  });
});
