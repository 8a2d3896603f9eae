import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { errors, type IssueInput } from '../errors';

/**
 * openapi.yaml is the one source of the native JSON schemas: intake validates request bodies with the
 * schemas in its `components.schemas`, compiled once with ajv, and answers every violation with an issue that
 * names the field (`patient.cpr`, `medications[2].change`) and the problem in plain English. Keeping the
 * contract and the validator one file means the documentation cannot drift from what intake enforces.
 */
const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.yaml');
/** The $id under which components.schemas are registered with ajv (as $defs). */
const SCHEMA_ID = 'sektorbro-openapi';
/** More issues than this in one answer help nobody; the rest are summarised in one line. */
const MAX_ISSUES = 30;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface OpenApiExample {
  summary?: string;
  description?: string;
  value?: unknown;
}

export interface OpenApiMediaType {
  schema?: unknown;
  examples?: Record<string, OpenApiExample>;
}

export interface OpenApiResponse {
  $ref?: string;
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, OpenApiMediaType>;
}

export interface OpenApiOperation {
  summary?: string;
  description?: string;
  security?: unknown[];
  'x-roles'?: string[];
  parameters?: unknown[];
  requestBody?: { required?: boolean; content?: Record<string, OpenApiMediaType> };
  responses?: Record<string, OpenApiResponse>;
}

/** The parts of the OpenAPI document the gateway and its tests read; the document has more. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  /** Path → method → operation. A path item may also hold `parameters`, which is not an operation. */
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, unknown>;
    responses?: Record<string, OpenApiResponse>;
    parameters?: Record<string, unknown>;
    securitySchemes?: Record<string, unknown>;
  };
}

export interface RequestExample {
  /** Upper case, e.g. POST. */
  method: string;
  /** As in the document, e.g. /fhir/Consent/{id}. */
  path: string;
  contentType: string;
  name: string;
  value: unknown;
}

let text: string | undefined;
let document: OpenApiDocument | undefined;
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The OpenAPI document as text, read once (served at /openapi.yaml). */
export function openApiYaml(): string {
  text ??= readFileSync(OPENAPI_FILE, 'utf8');
  return text;
}

/**
 * The OpenAPI document, parsed once (rendered at /docs, read by the tests). Parsing the YAML takes about a
 * second of start-up, so the result is cached as JSON in the temp directory under the text's SHA-256: a
 * changed openapi.yaml is parsed again, and an unwritable cache only costs the parse.
 */
export function openApiDocument(): OpenApiDocument {
  if (!document) {
    const yaml = openApiYaml();
    const cache = join(tmpdir(), `sektorbro-openapi-${createHash('sha256').update(yaml).digest('hex')}.json`);
    try {
      document = JSON.parse(readFileSync(cache, 'utf8')) as OpenApiDocument;
    } catch {
      document = parse(yaml) as OpenApiDocument;
      try {
        const partial = `${cache}.${process.pid}.tmp`;
        writeFileSync(partial, JSON.stringify(document));
        renameSync(partial, cache);
      } catch {
        // No cache: the next start parses again.
      }
    }
  }
  return document;
}

/**
 * Throws a 400 GatewayError with one issue per problem when `body` does not match the schema named
 * `schemaName` in openapi.yaml's components.schemas.
 * @param schemaName - e.g. "NativeDischargeLetter"
 * @param body - the parsed request body
 */
export function assertValidBody(schemaName: string, body: unknown): void {
  const validate = validator(schemaName);
  if (validate(body)) {
    return;
  }
  const issues = describeErrors(validate.errors ?? []);
  if (issues.length > MAX_ISSUES) {
    const rest = issues.length - MAX_ISSUES;
    throw errors.invalid(...issues.slice(0, MAX_ISSUES), {
      severity: 'information',
      code: 'informational',
      diagnostics: `and ${String(rest)} more problem${rest === 1 ? '' : 's'} not listed`,
    });
  }
  throw errors.invalid(...issues);
}

/** Every request example in openapi.yaml (the integration test posts each one and expects acceptance). */
export function requestExamples(): RequestExample[] {
  const out: RequestExample[] = [];
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of HTTP_METHODS) {
      const content = item[method]?.requestBody?.content ?? {};
      for (const [contentType, media] of Object.entries(content)) {
        for (const [name, example] of Object.entries(media.examples ?? {})) {
          out.push({ method: method.toUpperCase(), path, contentType, name, value: example.value });
        }
      }
    }
  }
  return out;
}

function validator(schemaName: string): ValidateFunction {
  const cached = compiled.get(schemaName);
  if (cached) {
    return cached;
  }
  const schemas = openApiDocument().components.schemas;
  if (!Object.hasOwn(schemas, schemaName)) {
    throw new Error(`openapi.yaml has no schema components.schemas.${schemaName}`);
  }
  ajv ??= createAjv(schemas);
  const fn = ajv.compile({ $ref: `${SCHEMA_ID}#/$defs/${schemaName}` });
  compiled.set(schemaName, fn);
  return fn;
}

function createAjv(schemas: Record<string, unknown>): Ajv2020 {
  // strict mode catches typos in the schemas (an unknown keyword is an error, not silently ignored), so the
  // OpenAPI-only keywords are declared: `example`, `xml`, `externalDocs` and every `x-*` extension used.
  // strictRequired is off because `anyOf: [{required: [text]}, ...]` names properties of the parent schema.
  // verbose puts the failing schema into each error, which is where `x-pattern-hint` is read from.
  const instance = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    verbose: true,
  });
  addFormats(instance);
  instance.addVocabulary(['example', 'xml', 'externalDocs', ...extensionKeywords(schemas)]);
  // OpenAPI's "#/components/schemas/X" become "$defs" of one schema, so refs resolve inside ajv.
  instance.addSchema({ $id: SCHEMA_ID, $defs: rewriteRefs(schemas) });
  return instance;
}

function extensionKeywords(value: unknown, found = new Set<string>()): string[] {
  if (Array.isArray(value)) {
    value.forEach((v) => extensionKeywords(v, found));
  } else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (key.startsWith('x-')) {
        found.add(key);
      }
      extensionKeywords(v, found);
    }
  }
  return [...found];
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(rewriteRefs);
  }
  if (!isObject(value)) {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) =>
      key === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? [key, `${SCHEMA_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`]
        : [key, rewriteRefs(v)],
    ),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function describeErrors(list: ErrorObject[]): IssueInput[] {
  // An anyOf failure also reports each branch's own failure ("must have required property text"); the one
  // anyOf issue ("give at least one of text and attachment") says it better.
  const useful = list.filter((e) => !e.schemaPath.includes('/anyOf/'));
  const seen = new Set<string>();
  return useful.flatMap((e) => {
    const issue = describe(e);
    const key = `${issue.expression ?? ''}|${issue.diagnostics}`;
    if (seen.has(key)) {
      return [];
    }
    seen.add(key);
    return [issue];
  });
}

/** One ajv error → one issue whose expression is the dotted path and whose diagnostics say what is wrong. */
function describe(e: ErrorObject): IssueInput {
  const path = toPath(e.instancePath);
  const at = path || 'body';
  const child = (name: string) => (path ? `${path}.${name}` : name);
  const invalid = (diagnostics: string): IssueInput => ({ diagnostics, expression: at, reason: 'invalid-value' });
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const field = child(String(params.missingProperty));
      return { diagnostics: `missing required field ${field}`, expression: field, reason: 'missing-field' };
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      return { diagnostics: `unknown field '${field}' in ${at}`, expression: child(field), reason: 'unknown-field' };
    }
    case 'anyOf': {
      const alternatives = requiredAlternatives(e.schema);
      if (alternatives.length > 0) {
        return {
          diagnostics: `${at}: give at least one of ${alternatives.join(' and ')}`,
          expression: child(alternatives[0] ?? ''),
          reason: 'missing-field',
        };
      }
      return invalid(`${at} does not match any of the allowed forms`);
    }
    case 'pattern': {
      const hint = patternHint(e.parentSchema);
      return invalid(`${at} must match pattern ${String(params.pattern)}${hint ? ` (${hint})` : ''}`);
    }
    case 'enum':
      return invalid(`${at} must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`);
    case 'const':
      return invalid(`${at} must be ${JSON.stringify(params.allowedValue)}`);
    case 'format':
      return invalid(`${at} must be a valid ${String(params.format)}${FORMAT_HINT[String(params.format)] ?? ''}`);
    case 'type':
      return invalid(`${at} must be ${article(String(params.type))}`);
    case 'minLength':
      return invalid(
        params.limit === 1
          ? `${at} must not be empty`
          : `${at} must be at least ${String(params.limit)} characters long`,
      );
    case 'maxLength':
      return invalid(`${at} is too long: at most ${String(params.limit)} characters`);
    case 'minItems':
      return invalid(`${at} must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`);
    case 'maxItems':
      return invalid(`${at} has too many items: at most ${String(params.limit)}`);
    default:
      return invalid(`${at} ${e.message ?? 'is invalid'}`);
  }
}

const FORMAT_HINT: Record<string, string> = {
  date: ' (YYYY-MM-DD)',
  'date-time': ' (ISO 8601 with time zone, e.g. 2026-11-21T09:00:00+01:00)',
  email: ' address',
};

function article(type: string): string {
  const types = type.split(',');
  const one = (t: string) => `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
  return types.map((t) => (t === 'null' ? 'null' : one(t))).join(' or ');
}

function patternHint(schema: unknown): string | undefined {
  const hint = isObject(schema) ? schema['x-pattern-hint'] : undefined;
  return typeof hint === 'string' ? hint : undefined;
}

/** For `anyOf: [{required: [text]}, {required: [attachment]}]`: ["text", "attachment"]. */
function requiredAlternatives(branches: unknown): string[] {
  if (!Array.isArray(branches)) {
    return [];
  }
  const names = branches.map((b: unknown) =>
    isObject(b) && Array.isArray(b.required) && b.required.length === 1 ? String(b.required[0]) : undefined,
  );
  return names.every((n) => n !== undefined) ? names : [];
}

/** "/medications/2/change" → "medications[2].change" */
function toPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}
