import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as stock from '@medplum/core';

/**
 * @medplum/core as the validator uses it: the same pinned bundle, loaded privately, with one change: the schema
 * medplum builds from a profile's StructureDefinition (`parseStructureDefinition`) is kept per StructureDefinition
 * object instead of rebuilt on every `validateResource(resource, { profile })` call. Rebuilding it was 60 % of the
 * time of validating a discharge letter (each of its resources claims a profile; the parse reads every element of
 * the profile's snapshot). medplum keeps base-type schemas the same way (getDataType); the parsed schema is
 * not changed by validation apart from slice type schemas it fills in once. The verdicts are the stock module's:
 * test/conformance/medplum-differential.test.ts and test/unit/validation/medplum-differential.test.ts compare
 * them on every R4 example, validator case and profile example.
 *
 * When the bundle is not the one this was written for (an upgrade), {@link profileCachePatched} is false and the
 * stock module is used: slower, never different.
 */
const PATCHES: ReadonlyArray<readonly [string, string]> = [
  // ResourceValidator's constructor: the profile's schema from the cache.
  [
    't?.profile?this.schema=er(t.profile):this.schema=ne(e.type)',
    't?.profile?this.schema=__sektorbro.profileSchema(t.profile,er):this.schema=ne(e.type)',
  ],
  // getTypedPropertyValueWithSchema: the property names of a choice element (`value[x]` → valueString,
  // valueBoolean, … in type order) computed once per element definition rather than on every read; the same
  // names are looked up in the same order.
  [
    'for(let p of i){let m=u.replace("[x]",I(p.code));if(o=n[m],a=n["_"+m],o!==void 0||a!==void 0){s=p.code;break}}',
    'for(let q of __sektorbro.names(t,i,u,I,n)){if(o=n[q[0]],a=n[q[1]],o!==void 0||a!==void 0){s=q[2];break}}',
  ],
];

function loadPatched(): typeof stock | undefined {
  const file = require.resolve('@medplum/core');
  const source = readFileSync(file, 'utf8');
  if (PATCHES.some(([from]) => source.split(from).length !== 2)) {
    return undefined;
  }
  const schemas = new WeakMap<object, unknown>();
  const profileSchema = (sd: object, parse: (sd: object) => unknown): unknown => {
    let schema = schemas.get(sd);
    if (schema === undefined) {
      schema = parse(sd);
      schemas.set(sd, schema);
    }
    return schema;
  };
  type Names = ReadonlyArray<readonly [string, string, string]>;
  interface ChoiceNames {
    readonly types: unknown;
    readonly names: Names;
    /** Type index by property name (with and without the `_` of a primitive's extension). */
    readonly index: ReadonlyMap<string, number>;
    /** No name is also a property of Object.prototype, so only own keys can match. */
    readonly ownKeysOnly: boolean;
  }
  const namesByElement = new WeakMap<object, ChoiceNames>();
  const choiceNames = (
    element: object,
    types: ReadonlyArray<{ code: string }>,
    last: string,
    capitalize: (s: string) => string,
  ): ChoiceNames => {
    const known = namesByElement.get(element);
    if (known?.types === types) {
      return known;
    }
    const names = types.map((t) => {
      const name = last.replace('[x]', capitalize(t.code));
      return [name, `_${name}`, t.code] as const;
    });
    const index = new Map<string, number>();
    names.forEach(([name, extension], i) => {
      if (!index.has(name)) {
        index.set(name, i);
        index.set(extension, i);
      }
    });
    const ownKeysOnly = names.every(
      ([name, extension]) => !(name in Object.prototype || extension in Object.prototype),
    );
    const entry = { types, names, index, ownKeysOnly };
    namesByElement.set(element, entry);
    return entry;
  };
  /**
   * The names to try, in type order. For a choice of many types read on a plain JSON object, only those among
   * the object's own keys: a name that is not an own key reads as undefined there, so the first match is the same.
   */
  const names = (
    element: object,
    types: ReadonlyArray<{ code: string }>,
    last: string,
    capitalize: (s: string) => string,
    value: unknown,
  ): Names => {
    const choice = choiceNames(element, types, last, capitalize);
    if (choice.names.length <= 2 || !choice.ownKeysOnly || value === null || typeof value !== 'object') {
      return choice.names;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      return choice.names;
    }
    const found: number[] = [];
    for (const key of Object.keys(value)) {
      const i = choice.index.get(key);
      if (i !== undefined) {
        found.push(i);
      }
    }
    return found.sort((a, b) => a - b).map((i) => choice.names[i] as Names[number]);
  };
  const module = { exports: {} as typeof stock };
  // The bundle requires nothing; it is evaluated as CommonJS with the one helper in scope.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(
    'exports',
    'module',
    '__filename',
    '__dirname',
    '__sektorbro',
    PATCHES.reduce((text, [from, to]) => text.replace(from, to), source),
  ) as (...args: unknown[]) => void;
  factory(module.exports, module, file, dirname(file), { profileSchema, names });
  return module.exports;
}

const patched = loadPatched();

/** True when the profile-schema cache is in place (the pinned @medplum/core 4.5.2 bundle). */
export const profileCachePatched = patched !== undefined;

/** The @medplum/core the gateway validates with (see above). */
export const medplum: typeof stock = patched ?? stock;
