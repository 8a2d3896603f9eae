import type { OperationOutcomeIssue } from 'fhir/r4';
import type { TypedValueWithPath } from '@medplum/core';
import { medplum } from './medplum-core';
import { isWrittenNumber } from '../json/json-text';
import { calendarProblem } from './calendar';
import { narrativeProblem } from './narrative-xhtml';

/**
 * FHIR rules @medplum/core's validator leaves out, checked on a resource that is otherwise valid R4:
 * - date, dateTime and instant values name a day (and time) that exists: FHIR R4 §2.24.0 says the values "SHALL
 *   be valid dates"; the regular expressions the definitions carry accept 2026-02-30, the calendar does not;
 * - every Narrative.div keeps the narrative rules (txt-1, txt-2; see narrative-xhtml.ts).
 * The element is named by its path from the root (`Bundle.entry[2].resource.period.start`).
 */
export function fhirInputRuleIssues(
  resource: unknown,
  writtenNumbers: ReadonlyMap<string, string> = new Map(),
  core: Pick<typeof medplum, 'crawlTypedValue' | 'toTypedValue'> = medplum,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const seen = new Set<string>();
  const visit = (v: TypedValueWithPath, key: string): void => {
    const where = v.path.replace(/value\[x\]$/, `value${v.type.charAt(0).toUpperCase()}${v.type.slice(1)}`);
    if (seen.has(where) || (typeof v.value !== 'string' && typeof v.value !== 'number')) {
      return;
    }
    let problem: string | undefined;
    const written = writtenNumbers.get(where);
    if (written !== undefined && INTEGER_TYPES.has(v.type) && !/^-?(0|[1-9][0-9]*)$/.test(written)) {
      // A decimal's written precision is kept (json-text.ts); an integer must be written as one (FHIR integer regex).
      problem = `${written} is not written as an ${v.type}`;
    } else if (typeof v.value !== 'string') {
      return;
    } else if (v.type === 'date' || v.type === 'dateTime' || v.type === 'instant') {
      problem = calendarProblem(v.value);
    } else if (v.type === 'xhtml' && key === 'div') {
      problem = narrativeProblem(v.value);
      problem &&= `the narrative is refused: ${problem}`;
    }
    if (problem) {
      seen.add(where);
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `${where}: ${problem}`, expression: [where] });
    }
  };
  core.crawlTypedValue(core.toTypedValue(resource), {
    visitProperty(_parent, key, _path, values) {
      for (const value of values.flat()) {
        visit(value, key);
      }
    },
  });
  return issues;
}

/**
 * FHIR JSON's own shape rules (FHIR R4 §2.6.2), which @medplum/core reads past — it takes `{}`, `[]` and `false`
 * for "no value" — and which code that walks the resource then trips over:
 * - objects and arrays are never empty, and values are never null (except as the place-holders in the `_x`
 *   arrays of primitive extensions, which line up with a primitive array);
 * - `resource` (Bundle.entry.resource, Parameters.parameter.resource, contained) is a resource: an object.
 * One iterative pass: the text's depth is bounded already (json-text.ts), and the walk does not recurse.
 */
export function fhirJsonShapeIssues(resource: unknown): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const root = (resource as { resourceType?: unknown } | null)?.resourceType;
  const stack: Array<{ value: unknown; path: string; key: string; inPrimitiveExtensions: boolean }> = [
    { value: resource, path: typeof root === 'string' ? root : 'body', key: '', inPrimitiveExtensions: false },
  ];
  const problem = (path: string, text: string) => {
    issues.push({
      severity: 'error',
      code: 'structure',
      diagnostics: `${path}: ${text}`,
      expression: [path],
    });
  };
  while (stack.length > 0 && issues.length < 20) {
    const { value, path, key, inPrimitiveExtensions } = stack.pop() as (typeof stack)[number];
    if (value === null) {
      if (!inPrimitiveExtensions) {
        problem(path, 'null is not a FHIR value; leave the element out');
      }
      continue;
    }
    if (key === 'resource' && (typeof value !== 'object' || Array.isArray(value))) {
      problem(path, `expected a resource (a JSON object), got ${Array.isArray(value) ? 'an array' : typeof value}`);
      continue;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) {
        problem(path, 'an empty array; FHIR JSON leaves an element without values out');
      }
      value.forEach((item: unknown, i) => {
        stack.push({ value: item, path: `${path}[${i}]`, key, inPrimitiveExtensions: key.startsWith('_') });
      });
      continue;
    }
    if (typeof value === 'object' && !isWrittenNumber(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) {
        problem(path, 'an empty object; FHIR JSON leaves an element without content out');
      }
      for (const [k, v] of entries) {
        stack.push({ value: v, path: `${path}.${k}`, key: k, inPrimitiveExtensions: false });
      }
    }
  }
  return issues;
}

const INTEGER_TYPES = new Set(['integer', 'unsignedInt', 'positiveInt', 'integer64']);

/** Where the tree holds numbers kept as written (json-text.ts), by FHIR path, with their text. */
export function writtenNumberPaths(resource: unknown): Map<string, string> {
  const found = new Map<string, string>();
  const root = (resource as { resourceType?: unknown } | null)?.resourceType;
  const stack: Array<{ value: unknown; path: string }> = [
    { value: resource, path: typeof root === 'string' ? root : '' },
  ];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string };
    if (isWrittenNumber(value)) {
      found.set(path, value.value);
    } else if (Array.isArray(value)) {
      value.forEach((v: unknown, i) => stack.push({ value: v, path: `${path}[${i}]` }));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        stack.push({ value: v, path: `${path}.${k}` });
      }
    }
  }
  return found;
}
