import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Response } from 'supertest';
import type { MessageHeader } from 'fhir/r4';
import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { SYSTEM } from '../../src/mappers/systems';
import { parseStoredJson } from '../../src/json/json-text';
import type { FhirValidator } from '../../src/validation/fhir-validator';
import { HTTP_METHODS, openApiDocument, requestExamples } from '../../src/validation/request-schemas';
import { consentFor, dataClasses, purposes } from './consents';
import { KEY, eventually, type TestGateway } from './test-gateway';

/**
 * A bounded, seeded, property-based fuzz run over every JSON intake route in openapi.yaml (issue 14, item 6).
 * Inputs are real examples (openapi.yaml, examples/, and what a caller adds, e.g. ../shared/corpus) with one to
 * three mutations that fast-check picks and shrinks: a value replaced by the wrong JSON type, an empty object or
 * array, null, a blank string, NUL, an impossible date, active narrative, deep nesting, a `__proto__` key, a
 * property given twice, a decimal written `0.60`, an array unwrapped or wrapped. It fails on any 5xx, a 4xx that is
 * not an OperationOutcome, an answer slower than {@link REQUEST_TIMEOUT_MS} (a hang), and on any 2xx that stored or
 * delivered something the gateway's own validator refuses against profiles/.
 *
 * Reproduce a run with FUZZ_SEED=<the printed seed>; FUZZ_RUNS sets the number of inputs per route;
 * FUZZ_OUTCOMES=<file> writes each input's digest and status there (to compare two builds on one seed).
 */
export type Role = keyof typeof KEY;

export interface FuzzRoute {
  method: 'POST' | 'PUT';
  /** As in openapi.yaml, e.g. /status-report-requests/{id}/response. */
  path: string;
  role: Role;
  contentTypes: string[];
}

export interface Seed {
  /** `POST /path` as in openapi.yaml. */
  route: string;
  contentType: string;
  body: unknown;
  /** Where it came from, for the report. */
  source: string;
}

export interface FuzzReport {
  seed: number;
  runsPerRoute: number;
  requests: Record<string, number>;
  statuses: Record<string, Record<number, number>>;
  serverErrors: number;
  /** Each failing input (route, seed example, mutations) and what was wrong. */
  failures: string[];
  /** route → input digest → status (to compare two runs with the same seed). */
  outcomes: Array<{ route: string; input: string; status: number }>;
}

const REQUEST_TIMEOUT_MS = 20000;
const JSON_CONTENT = ['application/json', 'application/fhir+json'];

/** Every operation in openapi.yaml that takes a JSON body, with the first role its x-roles lists. */
export function jsonIntakeRoutes(): FuzzRoute[] {
  const routes: FuzzRoute[] = [];
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      const types = Object.keys(op?.requestBody?.content ?? {}).filter((t) => JSON_CONTENT.includes(t));
      if (!op || types.length === 0 || (method !== 'post' && method !== 'put')) {
        continue;
      }
      const role = (op['x-roles'] ?? ['admin']).find((r) => r in KEY) ?? 'admin';
      routes.push({
        method: method === 'post' ? 'POST' : 'PUT',
        path,
        role: (path === '/fhir/$process-message' ? 'gp' : role) as Role,
        contentTypes: types,
      });
    }
  }
  return routes;
}

const ROOT = join(__dirname, '..', '..');
const readExample = (name: string): unknown => JSON.parse(readFileSync(join(ROOT, 'examples', name), 'utf8'));

/** The openapi.yaml request examples and the files in examples/, each with the route it belongs to. */
export function builtInSeeds(): Seed[] {
  const seeds: Seed[] = requestExamples()
    .filter((e) => JSON_CONTENT.includes(e.contentType))
    .map((e) => ({
      route: `${e.method} ${e.path}`,
      contentType: e.contentType,
      body: e.value,
      source: `openapi:${e.name}`,
    }));
  const files: Array<[string, string, string]> = [
    ['discharge-letter.json', 'POST /discharge-letters', 'application/json'],
    ['progress-note.json', 'POST /send-to-own-gp', 'application/json'],
    ['progress-note.json', 'POST /$convert', 'application/json'],
    ['sick-leave-certificate.json', 'POST /sick-leave-certificates', 'application/json'],
    ['status-report-request.json', 'POST /status-report-requests', 'application/json'],
    ['status-report-consent.json', 'POST /fhir/Consent', 'application/fhir+json'],
    ['directory.json', 'POST /fhir', 'application/fhir+json'],
  ];
  for (const [file, route, contentType] of files) {
    seeds.push({ route, contentType, body: readExample(file), source: `examples/${file}` });
  }
  return seeds;
}

/** Which routes a FHIR resource from a corpus seeds, by what it is. */
export function routesForResource(resource: unknown): string[] {
  const r = (resource ?? {}) as { resourceType?: string; type?: string };
  switch (r.resourceType ?? '') {
    case 'Bundle':
      return r.type === 'document'
        ? ['POST /discharge-letters', 'POST /send-to-own-gp', 'POST /$convert', 'POST /sick-leave-certificates']
        : r.type === 'message'
          ? ['POST /fhir/$process-message']
          : r.type === 'batch' || r.type === 'transaction'
            ? ['POST /fhir']
            : [];
    case 'Consent':
      return ['POST /fhir/Consent', 'PUT /fhir/Consent/{id}'];
    case 'Task':
      return ['POST /fhir/Task', 'POST /status-report-requests'];
    case 'QuestionnaireResponse':
      return ['POST /status-report-requests/{id}/response'];
    case 'Subscription':
      return ['POST /fhir/Subscription', 'PUT /fhir/Subscription/{id}'];
    default:
      return [];
  }
}

// ---- mutations ----

const OPS = [
  'empty-object',
  'empty-array',
  'null',
  'false',
  'number',
  'string',
  'blank',
  'nul',
  'bad-date',
  'active-narrative',
  'deep',
  'proto-key',
  'wrap-array',
  'unwrap-array',
  'array-to-object',
  'delete',
  'duplicate-key',
  'decimal-lexeme',
] as const;
type Op = (typeof OPS)[number];

export interface Mutation {
  op: Op;
  /** Which element (an index into the body's elements, modulo their number). */
  at: number;
  /** Which variant of the op. */
  pick: number;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom(...OPS),
  at: fc.nat({ max: 100000 }),
  pick: fc.nat({ max: 1000 }),
});

/** An input: which seed, and one to three mutations of it. */
export interface FuzzInput {
  seed: number;
  mutations: Mutation[];
}

export const inputArb = (seeds: number): fc.Arbitrary<FuzzInput> =>
  fc.record({
    seed: fc.nat({ max: Math.max(0, seeds - 1) }),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  });

const NUMBERS = [0, -1, 1.5, 1e308, 4294967296, -0.000001];
const STRINGS = ['x', 'urn:uuid:x', '2026-13-01', 'Ω≈ç√∫ æøå', '0101901234', 'a'.repeat(5000)];
const BAD_DATES = ['2026-02-30', '2026-02-29T10:00:00+01:00', '2025-04-31', '2026-00-10', '2026-12-01T25:00:00Z'];
const NARRATIVES = [
  '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>',
  '<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="alert(1)">x</p></div>',
  '<div xmlns="http://www.w3.org/1999/xhtml"><form action="https://x.example"><p>x</p></form></div>',
  '<div xmlns="http://www.w3.org/1999/xhtml"><p>x<img src="https://x.example/t.gif"/></p></div>',
  '<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>',
];
const DEPTHS = [50, 99, 101, 5000];
const LEXEMES = ['0.60', '1.0', '1e2', '-0', '12345678901234567890', '1.000000000000000000001'];

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string | number;
}

function slots(root: unknown): Slot[] {
  const out: Slot[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && out.length < 20000) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        out.push({ parent: v, key: i });
        stack.push(item);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k });
        stack.push(item);
      }
    }
  }
  return out;
}

/** The request body text for an input: the seed with its mutations applied (structural first, then textual). */
export function render(seed: unknown, mutations: Mutation[]): string {
  const body = structuredClone(seed);
  const textual: Mutation[] = [];
  for (const m of mutations) {
    if (m.op === 'duplicate-key' || m.op === 'decimal-lexeme' || m.op === 'proto-key') {
      textual.push(m);
      continue;
    }
    const all = slots(body);
    const slot = all[m.at % Math.max(1, all.length)];
    if (!slot) {
      continue;
    }
    const current = (slot.parent as Record<string | number, unknown>)[slot.key];
    const set = (v: unknown) => {
      (slot.parent as Record<string | number, unknown>)[slot.key] = v;
    };
    const pick = <T>(list: readonly T[]): T => list[m.pick % list.length] as T;
    switch (m.op) {
      case 'empty-object':
        set({});
        break;
      case 'empty-array':
        set([]);
        break;
      case 'null':
        set(null);
        break;
      case 'false':
        set(false);
        break;
      case 'number':
        set(pick(NUMBERS));
        break;
      case 'string':
        set(pick(STRINGS));
        break;
      case 'blank':
        set(pick(['', ' ', '\t\n']));
        break;
      case 'nul':
        set(typeof current === 'string' ? `${current}\u0000` : 'a\u0000b');
        break;
      case 'bad-date':
        set(pick(BAD_DATES));
        break;
      case 'active-narrative':
        set(pick(NARRATIVES));
        break;
      case 'deep':
        // Written into the text below: JSON.stringify of thousands of levels would overflow this test's stack.
        set(`__DEEP_${pick(DEPTHS)}__`);
        break;
      case 'wrap-array':
        set([current]);
        break;
      case 'unwrap-array':
        set(Array.isArray(current) ? current[0] : current);
        break;
      case 'array-to-object':
        // The same values keyed "0", "1", …: an array where the reader expects an object, or the reverse.
        set(Array.isArray(current) ? Object.fromEntries(current.map((v: unknown, i) => [String(i), v])) : current);
        break;
      case 'delete':
        if (Array.isArray(slot.parent)) {
          slot.parent.splice(slot.key as number, 1);
        } else {
          Reflect.deleteProperty(slot.parent, slot.key);
        }
        break;
      default:
        break;
    }
  }
  let text = JSON.stringify(body).replace(/"__DEEP_(\d+)__"/g, (_m, n: string) => {
    const depth = Number(n);
    return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  });
  for (const m of textual) {
    if (m.op === 'decimal-lexeme') {
      const numbers = [...text.matchAll(/:(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=[,}\]])/g)];
      const hit = numbers[m.at % Math.max(1, numbers.length)];
      if (hit?.index !== undefined) {
        const lexeme = LEXEMES[m.pick % LEXEMES.length] ?? '0.60';
        text = `${text.slice(0, hit.index + 1)}${lexeme}${text.slice(hit.index + hit[0].length)}`;
      }
      continue;
    }
    // A key given twice, or a __proto__ key, at the start of some object.
    const objects = [...text.matchAll(/\{"((?:[^"\\]|\\.)*)":/g)];
    const hit = objects[m.at % Math.max(1, objects.length)];
    if (hit?.index !== undefined) {
      const insert = m.op === 'duplicate-key' ? `"${hit[1] ?? ''}":null,` : '"__proto__":{"polluted":true},';
      text = `${text.slice(0, hit.index + 1)}${insert}${text.slice(hit.index + 1)}`;
    }
  }
  return text;
}

// ---- running ----

/** What a route's path parameters are filled with: ids the setup made, or unknown ones. */
export interface PathIds {
  statusReport: () => Promise<string>;
  subscription: string;
  consent: string;
}

/**
 * Makes what the parameterised routes need (a status-report request, a Subscription, a Consent, the jobcentre's
 * consent) and a message the GP can acknowledge; the acknowledgement seeds are pointed at it.
 */
export async function prepareFuzz(
  t: TestGateway,
  gp: MessageReceiver,
  seeds: Seed[],
): Promise<{ ids: PathIds; seeds: Seed[] }> {
  const permit = consentFor(
    'permit',
    { system: SYSTEM.municipality, value: '0101' },
    {
      purpose: purposes('work-capacity-assessment', 'sickness-benefit-follow-up'),
      class: dataClasses('functional-capacity', 'expected-duration', 'treatment-plan-outline', 'sick-leave-minimal'),
    },
  );
  const consent = await t.http
    .post('/fhir/Consent')
    .set('Authorization', `Bearer ${KEY.jobcentre}`)
    .set('Content-Type', 'application/fhir+json')
    .send(JSON.stringify(permit))
    .expect(201);
  const subscriptionSeed = seeds.find((s) => s.route === 'POST /fhir/Subscription')?.body;
  const subscription = await t.http
    .post('/fhir/Subscription')
    .set('Authorization', `Bearer ${KEY.gp}`)
    .set('Content-Type', 'application/fhir+json')
    .send(JSON.stringify(subscriptionSeed))
    .expect(201);
  const before = gp.unique.size;
  await t.http
    .post('/send-to-own-gp')
    .set('Authorization', `Bearer ${KEY.hospital}`)
    .send({
      patient: { cpr: '0101901234' },
      title: 't',
      text: 'x',
      author: { name: 'a', organization: { sor: '265161000016004' } },
    })
    .expect(202);
  await gp.waitFor(before + 1);
  const header = [...gp.unique.values()].at(-1)?.bundle.entry?.[0]?.resource as MessageHeader;
  const pointed = seeds.map((s) => {
    if (s.route !== 'POST /fhir/$process-message') {
      return s;
    }
    const ack = structuredClone(s.body) as { entry?: Array<{ resource?: { response?: { identifier?: string } } }> };
    const response = ack.entry?.[0]?.resource?.response;
    if (response) {
      response.identifier = header.id;
    }
    return { ...s, body: ack };
  });
  const statusReport = async () => {
    const created = await t.http
      .post('/status-report-requests')
      .set('Authorization', `Bearer ${KEY.jobcentre}`)
      .send({ patient: { cpr: '0101901234' }, questionSet: 'LAE125', reason: 'Eksempel på en anmodning.' });
    return created.status === 202 ? (created.body.id as string) : randomUUID();
  };
  return {
    ids: { statusReport, subscription: subscription.body.id as string, consent: consent.body.id as string },
    seeds: pointed,
  };
}

/** The seed run: FUZZ_SEED when set (to reproduce), else a new one; printed either way. */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  return fromEnv && /^-?\d+$/.test(fromEnv) ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}

/**
 * Runs `runsPerRoute` fuzzed inputs against each route (in the order given) and returns the figures. Every
 * answer is checked as it comes (5xx, OperationOutcome, hang, a 2xx FHIR answer the validator refuses); the
 * stored and delivered Bundles are checked at the end by {@link checkStoredAndDelivered}.
 */
export async function runFuzz(args: {
  t: TestGateway;
  validator: FhirValidator;
  routes: FuzzRoute[];
  seeds: Seed[];
  ids: PathIds;
  seed: number;
  runsPerRoute: number;
}): Promise<FuzzReport> {
  const { t, validator, routes, seeds, ids, seed, runsPerRoute } = args;
  const report: FuzzReport = {
    seed,
    runsPerRoute,
    requests: {},
    statuses: {},
    serverErrors: 0,
    failures: [],
    outcomes: [],
  };
  let statusReportId = await ids.statusReport();
  for (const [index, route] of routes.entries()) {
    const key = `${route.method} ${route.path}`;
    const own = seeds.filter((s) => s.route === key);
    if (own.length === 0) {
      throw new Error(`no seed for ${key}: add an example to openapi.yaml`);
    }
    report.requests[key] = 0;
    report.statuses[key] = {};
    await fc.assert(
      fc.asyncProperty(inputArb(own.length), async (input) => {
        const chosen = own[input.seed] as Seed;
        const text = render(chosen.body, input.mutations);
        if (route.path.startsWith('/status-report-requests/{id}') && (report.requests[key] ?? 0) % 10 === 0) {
          statusReportId = await ids.statusReport();
        }
        const path = route.path
          .replace('/status-report-requests/{id}', `/status-report-requests/${statusReportId}`)
          .replace('/fhir/Subscription/{id}', `/fhir/Subscription/${ids.subscription}`)
          .replace('/fhir/Consent/{id}', `/fhir/Consent/${ids.consent}`)
          .replace(/\{[A-Za-z]+\}/g, randomUUID());
        const what = `${key} (${chosen.source}, ${JSON.stringify(input.mutations)})`;
        const call = route.method === 'PUT' ? t.http.put(path) : t.http.post(path);
        let res: Response;
        try {
          res = await call
            .set('Authorization', `Bearer ${KEY[route.role]}`)
            .set('Content-Type', chosen.contentType)
            .timeout(REQUEST_TIMEOUT_MS)
            .send(text);
        } catch (e) {
          report.failures.push(`${what}: no answer (${(e as Error).message})`);
          return;
        }
        report.requests[key] = (report.requests[key] ?? 0) + 1;
        const statuses = report.statuses[key] as Record<number, number>;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        report.outcomes.push({
          route: key,
          input: createHash('sha256').update(text).digest('hex').slice(0, 16),
          status: res.status,
        });
        if (res.status >= 500) {
          report.failures.push(`${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
          report.serverErrors += 1;
          return;
        }
        if (res.status >= 400 && res.body?.resourceType !== 'OperationOutcome') {
          report.failures.push(`${what}: a ${res.status} that is not an OperationOutcome`);
          return;
        }
        const answer = res.body as { resourceType?: string } | undefined;
        if (res.status < 300 && answer?.resourceType && answer.resourceType !== 'OperationOutcome') {
          const errors = validator.validate(answer).filter((i) => i.severity === 'error' || i.severity === 'fatal');
          if (errors.length > 0) {
            report.failures.push(
              `${what}: a ${res.status} with an invalid ${answer.resourceType}: ${errors[0]?.diagnostics ?? ''}`,
            );
          }
        }
      }),
      // Failures are collected, not thrown: one run gives the figures for every route. FUZZ_SEED replays it.
      { seed: seed + index, numRuns: runsPerRoute },
    );
  }
  if (process.env.FUZZ_OUTCOMES) {
    // Every input's digest and answer, to compare two builds on the same seed.
    writeFileSync(process.env.FUZZ_OUTCOMES, JSON.stringify(report.outcomes));
  }
  return report;
}

/**
 * Waits until the outbox is drained and checks every stored delivery Bundle and every Bundle the loopback GP
 * received against profiles/ with the gateway's own validator, and every stored Consent.
 */
export async function checkStoredAndDelivered(
  t: TestGateway,
  gp: MessageReceiver,
  validator: FhirValidator,
): Promise<string[]> {
  await eventually(
    async () => {
      const open = await t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM deliveries WHERE status NOT IN ('delivered', 'failed', 'dead')",
      );
      return (open[0]?.n ?? 0) === 0 ? true : undefined;
    },
    60000,
    'deliveries to settle',
  ).catch(() => undefined);
  const problems: string[] = [];
  const check = (what: string, resource: unknown) => {
    const errors = validator.validate(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length > 0) {
      problems.push(
        `${what}: ${errors
          .map((e) => e.diagnostics)
          .join('; ')
          .slice(0, 400)}`,
      );
    }
  };
  for (const row of await t.db.query<{ id: string; bundle: string }>(
    'SELECT id, bundle::text AS bundle FROM deliveries',
  )) {
    check(`stored delivery ${row.id}`, parseStoredJson(row.bundle));
  }
  for (const row of await t.db.query<{ id: string; resource: string }>(
    'SELECT id, resource::text AS resource FROM consents',
  )) {
    check(`stored Consent ${row.id}`, parseStoredJson(row.resource));
  }
  for (const m of gp.received) {
    check(`delivered Bundle ${m.messageHeaderId}`, parseStoredJson(m.text));
  }
  return problems;
}

/** The figures as a table for the log. */
export function describeReport(report: FuzzReport, seconds: number): string {
  const lines = [
    `fuzz seed ${report.seed} (FUZZ_SEED=${report.seed} to reproduce), ${report.runsPerRoute} inputs per route, ${seconds.toFixed(1)} s`,
    ...Object.entries(report.requests).map(
      ([route, n]) =>
        `  ${route.padEnd(52)} ${String(n).padStart(4)}  ${Object.entries(report.statuses[route] ?? {})
          .map(([s, c]) => `${s}:${c}`)
          .join(' ')}`,
    ),
    `  total ${Object.values(report.requests).reduce((a, b) => a + b, 0)} requests, ${report.serverErrors} 5xx, ${report.failures.length} failures`,
  ];
  return lines.join('\n');
}
