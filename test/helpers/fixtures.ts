import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeDischargeLetter } from '../../src/mappers/native-types';

/** A fresh copy of the native discharge-letter fixture, free to change in a test. */
export function nativeLetter(): NativeDischargeLetter & Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/discharge-letter.native.json'), 'utf8')) as NativeDischargeLetter & Record<string, unknown>;
}

/** The MDM^T02 fixture, optionally under another control id (MSH-10). */
export function mdmT02(controlId = 'MSG-2026-000777'): string {
  return readFileSync(join(__dirname, '../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8').replace('MSG-2026-000777', controlId);
}
