import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Questionnaire } from 'fhir/r4';
import type { StandardSets } from '../mappers/status-report/request-draft';

/** The standard question sets, as published in profiles/ (partners read the same files). */
export const PROFILES_DIR = join(__dirname, '..', '..', 'profiles');

export function loadStandardSets(dir = PROFILES_DIR): StandardSets {
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Questionnaire;
  return Object.freeze({
    LAE125: read('Questionnaire-sektorbro-status-lae125.json'),
    LAE285: read('Questionnaire-sektorbro-status-lae285.json'),
  });
}
