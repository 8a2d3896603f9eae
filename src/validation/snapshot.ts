import type { ElementDefinition, StructureDefinition } from 'fhir/r4';

/**
 * Builds a profile's snapshot from its base's snapshot and its differential, so profiles/ can hold the
 * differentials partners read while the validator gets the full element list it needs. It supports what
 * Sektorbro's profiles use: tightening cardinality, fixed and pattern values, bindings, type profiles,
 * constraints and documentation on elements the base already has. Anything else is a load error, so a
 * profile never silently means less than it says.
 */
const MERGED_KEYS = [
  'short',
  'definition',
  'comment',
  'requirements',
  'min',
  'max',
  'mustSupport',
  'binding',
  'type',
  'maxLength',
] as const;

export function buildSnapshot(profile: StructureDefinition, base: StructureDefinition): StructureDefinition {
  const baseElements = base.snapshot?.element;
  if (!baseElements) {
    throw new Error(`${profile.url}: base ${base.url} has no snapshot`);
  }
  const elements: ElementDefinition[] = baseElements.map((e) => structuredClone(e));
  const byId = new Map(elements.map((e) => [e.id ?? e.path, e]));
  for (const diff of profile.differential?.element ?? []) {
    const id = diff.id ?? diff.path;
    const target = byId.get(id);
    if (!target) {
      throw new Error(
        `${profile.url}: differential element ${id} is not in the base ${base.type} (only existing elements can be constrained)`,
      );
    }
    if (diff.sliceName || diff.slicing) {
      throw new Error(`${profile.url}: ${id} uses slicing, which this snapshot builder does not support`);
    }
    if (diff.min !== undefined && target.min !== undefined && diff.min < target.min) {
      throw new Error(`${profile.url}: ${id} min ${diff.min} loosens the base min ${target.min}`);
    }
    for (const key of MERGED_KEYS) {
      if (diff[key] !== undefined) {
        (target as unknown as Record<string, unknown>)[key] = structuredClone(diff[key]);
      }
    }
    for (const [key, value] of Object.entries(diff)) {
      if (key.startsWith('fixed') || key.startsWith('pattern')) {
        (target as unknown as Record<string, unknown>)[key] = structuredClone(value);
      }
    }
    if (diff.constraint) {
      target.constraint = [...(target.constraint ?? []), ...structuredClone(diff.constraint)];
    }
  }
  return { ...profile, snapshot: { element: elements } };
}
