/**
 * `Bundle.entry` as FHIR JSON has it: the list, or no `entry` at all when there are none. FHIR JSON has no empty
 * arrays (R4 JSON representation, §2.6.2: "an element without values is left out"), so a search that finds
 * nothing, an empty history or a batch of no messages answers a Bundle with `total: 0` and no `entry`.
 * Spread it into the Bundle: `{ resourceType: 'Bundle', type: 'searchset', total, ...bundleEntries(list) }`.
 */
export function bundleEntries<T>(entries: T[]): { entry?: T[] } {
  return entries.length > 0 ? { entry: entries } : {};
}
