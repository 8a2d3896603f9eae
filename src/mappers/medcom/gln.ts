import type { Identifier } from 'fhir/r4';
import { SYSTEM } from '../systems';

/**
 * GLN (EAN, lokationsnummer): 13 digits, the last a GS1 check digit. Both system URIs are taken on input
 * (`https://www.gs1.org/gln` of dk-core ≤ 3.4.0 and MedCom's examples, `http://www.gs1.org/gln` of dk-core 3.5.0).
 */
export const GLN_SYSTEMS: readonly string[] = [SYSTEM.gln, SYSTEM.glnLegacy];

/** The organisation's GLN, whichever of the two system URIs it is recorded under. */
export function glnOf(identifiers: Identifier[] | undefined): string | undefined {
  return identifiers?.find((i) => i.system !== undefined && GLN_SYSTEMS.includes(i.system) && i.value)?.value;
}

/** GS1 check digit: weights 3 and 1 alternating from the right of the first 12 digits. */
export function isValidGln(value: string): boolean {
  if (!/^\d{13}$/.test(value)) {
    return false;
  }
  const digits = Array.from(value, Number);
  const sum = digits.slice(0, 12).reduce((s, d, i) => s + d * (i % 2 === 0 ? 1 : 3), 0);
  return (10 - (sum % 10)) % 10 === digits[12];
}
