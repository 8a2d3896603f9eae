import { randomUUID } from 'node:crypto';
import { DEMO_CLIENTS, ROLES, type Role } from '../../src/auth/clients';
import { openApiDocument, requestExamples } from '../../src/validation/request-schemas';
import { PATIENT_CPR } from '../helpers/directory-fixture';
import { startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * The role × route matrix, generated from openapi.yaml's `x-roles`: for every documented operation and every
 * role, a client of that role sends a well-formed request (the operation's first request example, path ids of
 * resources that do not exist or the demo patient's CPR). A role the operation does not list is refused with
 * 401/403/404 and never gets a 2xx or a 5xx; a role it lists is never refused for its role (no 401, no 403
 * `wrong-role`) and never gets a 5xx. Without a key, or with an unknown one, every operation answers 401.
 */
const KEY_OF = Object.fromEntries(DEMO_CLIENTS.map((c) => [c.role, c.apiKey])) as Record<Role, string>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  method: string;
  path: string;
  roles: Role[];
  contentType?: string;
  body?: unknown;
}

function operations(): Operation[] {
  const examples = requestExamples();
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of METHODS) {
      const op = item[method];
      const roles = op?.['x-roles'] as Role[] | undefined;
      if (!op || !roles) {
        continue;
      }
      const example = examples.find((e) => e.path === path && e.method === method.toUpperCase());
      out.push({
        method: method.toUpperCase(),
        path,
        roles,
        ...(example ? { contentType: example.contentType, body: example.value } : {}),
      });
    }
  }
  return out;
}

/** A concrete path: ids of nothing that exists, the demo patient's CPR. */
const concrete = (path: string) => path.replace(/\{cpr\}/g, PATIENT_CPR).replace(/\{[A-Za-z]+\}/g, () => randomUUID());

const OPERATIONS = operations();

describe('role × route matrix from openapi.yaml x-roles', () => {
  let t: TestGateway;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ t, close } = await startGatewayWithGp({ env: { RUN_WORKERS: 'false' } }));
  });
  afterAll(async () => {
    await close();
  });

  const call = (op: Operation, key: string | undefined) => {
    const path = concrete(op.path);
    let req = t.http[op.method.toLowerCase() as 'get' | 'put' | 'post' | 'delete' | 'patch'](path);
    if (key !== undefined) {
      req = req.set('Authorization', `Bearer ${key}`);
    }
    if (op.body !== undefined) {
      req = req.set('Content-Type', op.contentType ?? 'application/json');
      return req.send(typeof op.body === 'string' ? op.body : JSON.stringify(op.body));
    }
    return req;
  };

  it('covers every documented operation that needs a key, each with the six roles', () => {
    expect(OPERATIONS.length).toBeGreaterThan(40);
    for (const op of OPERATIONS) {
      expect(op.roles.every((r) => (ROLES as readonly string[]).includes(r))).toBe(true);
    }
  });

  it.each(OPERATIONS.map((op) => [`${op.method} ${op.path}`, op] as const))(
    'refuses %s without a key or with an unknown one',
    async (_label, op) => {
      expect((await call(op, undefined)).status).toBe(401);
      expect((await call(op, `unknown-key-${randomUUID()}`)).status).toBe(401);
    },
  );

  const cells = OPERATIONS.flatMap((op) =>
    ROLES.map((role) => [`${op.method} ${op.path} as ${role}`, op, role, op.roles.includes(role)] as const),
  );

  it.each(cells)('%s', async (_label, op, role, allowed) => {
    const res = await call(op, KEY_OF[role]);
    const reason = (res.body as { issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> }).issue?.[0]
      ?.details?.coding?.[0]?.code;
    expect(res.status).toBeLessThan(500);
    if (allowed) {
      expect(res.status).not.toBe(401);
      expect([res.status, reason]).not.toEqual([403, 'wrong-role']);
    } else {
      expect([401, 403, 404]).toContain(res.status);
    }
  });
});
