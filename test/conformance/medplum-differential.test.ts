import { medplumDifferential } from '../helpers/medplum-differential';
import { listShared, readShared } from './shared-dir';

/**
 * The gateway validates with a privately loaded @medplum/core that keeps parsed profile schemas
 * (src/validation/medplum-core.ts). Its verdicts against the stock module's on every official R4 example and
 * every HL7 validator case in ../shared/corpus (the resources themselves, and against every project profile of
 * the same resource type): any difference fails.
 */
const diff = medplumDifferential();
const files = (folder: string) =>
  listShared('corpus', folder)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [`${folder}/${f}`] as const);

describe('kept profile schemas: the stock @medplum/core verdicts on the corpus', () => {
  it.each([...files('fhir-r4-examples'), ...files('validator-cases')])('%s', (file) => {
    const resource: unknown = JSON.parse(readShared('utf8', 'corpus', file));
    expect(diff.compare(resource)).toEqual([]);
  });
});
