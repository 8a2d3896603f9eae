import type { MappingContext } from '../../src/mappers/context';

/** A deterministic context: a fixed clock and counting UUIDs, so mapper output is the same every run. */
export function testContext(now = '2026-11-22T10:00:00Z', idPrefix = '00000000'): MappingContext {
  let n = 0;
  return {
    now: new Date(now),
    newId: () => {
      n += 1;
      return `${idPrefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;
    },
    gatewayEndpoint: 'http://gateway.test/fhir',
  };
}
