import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { errors, type IssueInput } from '../errors';

/**
 * openapi.yaml is the one source of the native JSON schemas: intake validates request bodies with the
 * schemas in its components, compiled once with ajv, and answers every violation with an issue that names
 * the field (`patient.cpr`, `medications[2].change`).
 */
const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.yaml');

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { examples?: Record<string, { value: unknown }> }> } }>>;
  components: { schemas: Record<string, unknown> };
}

let text: string | undefined;
let document: OpenApiDocument | undefined;
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

export function openApiYaml(): string {
  text ??= readFileSync(OPENAPI_FILE, 'utf8');
  return text;
}

export function openApiDocument(): OpenApiDocument {
  document ??= parse(openApiYaml()) as OpenApiDocument;
  return document;
}

function validator(schemaName: string): ValidateFunction {
  const cached = compiled.get(schemaName);
  if (cached) {
    return cached;
  }
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addKeyword('example');
    // OpenAPI's "#/components/schemas/X" become "$defs" of one schema, so refs resolve inside ajv.
    const defs = JSON.parse(JSON.stringify(openApiDocument().components.schemas).replaceAll('#/components/schemas/', 'openapi#/$defs/')) as Record<string, unknown>;
    ajv.addSchema({ $id: 'openapi', $defs: defs });
  }
  if (!(schemaName in openApiDocument().components.schemas)) {
    throw new Error(`openapi.yaml has no schema ${schemaName}`);
  }
  const fn = ajv.compile({ $ref: `openapi#/$defs/${schemaName}` });
  compiled.set(schemaName, fn);
  return fn;
}

/** Throws a 400 GatewayError listing every problem when body does not match the named schema. */
export function assertValidBody(schemaName: string, body: unknown): void {
  const validate = validator(schemaName);
  if (!validate(body)) {
    const issues = describeErrors(validate.errors ?? []);
    throw errors.invalid(...issues.slice(0, 30));
  }
}

function describeErrors(list: ErrorObject[]): IssueInput[] {
  // An anyOf failure reports each branch's "required" too; the one anyOf issue says it better.
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

function describe(e: ErrorObject): IssueInput {
  const path = toPath(e.instancePath);
  const at = path || 'body';
  switch (e.keyword) {
    case 'required': {
      const field = path ? `${path}.${String(e.params.missingProperty)}` : String(e.params.missingProperty);
      return { diagnostics: `missing required field ${field}`, expression: field, reason: 'missing-field' };
    }
    case 'additionalProperties': {
      const field = String(e.params.additionalProperty);
      return { diagnostics: `unknown field '${field}' in ${at}`, expression: path ? `${path}.${field}` : field, reason: 'unknown-field' };
    }
    case 'pattern':
      return { diagnostics: `${at} must match pattern ${String(e.params.pattern)}${hint(path)}`, expression: at, reason: 'invalid-value' };
    case 'enum':
      return { diagnostics: `${at} must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`, expression: at, reason: 'invalid-value' };
    case 'format':
      return { diagnostics: `${at} must be a valid ${String(e.params.format)}${e.params.format === 'date' ? ' (YYYY-MM-DD)' : ''}`, expression: at, reason: 'invalid-value' };
    case 'anyOf':
      return { diagnostics: `${at}: give at least one of text and attachment`, expression: path ? `${path}.text` : 'text', reason: 'missing-field' };
    default:
      return { diagnostics: `${at} ${e.message ?? 'is invalid'}`, expression: at, reason: 'invalid-value' };
  }
}

function hint(path: string): string {
  if (path.endsWith('cpr')) {
    return ' (10 digits, no dash)';
  }
  if (path.endsWith('sor')) {
    return ' (a SOR code: digits only)';
  }
  return '';
}

/** "/medications/2/change" → "medications[2].change" */
function toPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

export interface RequestExample {
  method: string;
  path: string;
  contentType: string;
  name: string;
  value: unknown;
}

/** Every request example in openapi.yaml, for the test that posts each one to the running gateway. */
export function requestExamples(): RequestExample[] {
  const out: RequestExample[] = [];
  for (const [path, ops] of Object.entries(openApiDocument().paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [contentType, media] of Object.entries(op.requestBody?.content ?? {})) {
        for (const [name, example] of Object.entries(media.examples ?? {})) {
          out.push({ method: method.toUpperCase(), path, contentType, name, value: example.value });
        }
      }
    }
  }
  return out;
}
