/**
 * Writes profiles/examples/ from the mappers, with a fixed clock and ids, so the examples partners read are
 * exactly what the gateway emits. Run after changing a mapper: `npx tsx scripts/generate-profile-examples.ts`
 * (test/unit/validation/profile-conformance.test.ts fails when the files are stale).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileExamples } from '../test/helpers/profile-examples';

for (const [name, resource] of Object.entries(profileExamples())) {
  writeFileSync(
    join(__dirname, '..', 'profiles', 'examples', `${name}.json`),
    `${JSON.stringify(resource, null, 2)}\n`,
  );
  console.log(`wrote profiles/examples/${name}.json`);
}
