import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { createFhirValidator } from '../../src/validation/fhir-validator';
import {
  builtInSeeds,
  checkStoredAndDelivered,
  describeReport,
  fuzzSeed,
  jsonIntakeRoutes,
  prepareFuzz,
  routesForResource,
  runFuzz,
  type Seed,
} from '../helpers/fuzz-json';
import { startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';
import { listShared, readShared } from './shared-dir';

/**
 * The JSON intake fuzz suite (issue 14, item 6) seeded from openapi.yaml, examples/ and the FHIR inputs of
 * ../shared/corpus: the official R4 examples (documents, messages, batches, Consents, Tasks, QuestionnaireResponses,
 * Subscriptions, each on the routes that take its kind) and the bug-report JSON files. Bounded (FUZZ_RUNS inputs
 * per route, 40 unless set) and seeded: the seed is printed, FUZZ_SEED=<seed> replays the run. It fails on any 5xx,
 * a hang, a 4xx that is not an OperationOutcome, and on anything stored or delivered that the gateway's own
 * validator refuses against profiles/. The HL7 v2 and MLLP fuzz is its own suite.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? '40');

function corpusSeeds(): Seed[] {
  const seeds: Seed[] = [];
  const add = (source: string, text: string) => {
    const resource = JSON.parse(text) as unknown;
    for (const route of routesForResource(resource)) {
      seeds.push({ route, contentType: 'application/fhir+json', body: resource, source });
    }
  };
  for (const file of listShared('corpus/fhir-r4-examples').filter((f) => f.endsWith('.json'))) {
    add(`fhir-r4-examples/${file}`, readShared('utf8', 'corpus/fhir-r4-examples', file));
  }
  for (const file of listShared('corpus/bug-reports').filter((f) => f.endsWith('.json'))) {
    // Read as JSON.parse does: the duplicate-key file becomes its last-one-wins reading, a valid seed.
    add(`bug-reports/${file}`, readShared('utf8', 'corpus/bug-reports', file));
  }
  return seeds;
}

describe('JSON intake fuzz (openapi, examples/ and ../shared/corpus seeds)', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  it('answers every mutated input without a 5xx or a hang, and stores and delivers only valid FHIR', async () => {
    const started = Date.now();
    const seed = fuzzSeed();
    console.log(`JSON intake fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)`);
    const corpus = corpusSeeds();
    expect(corpus.length).toBeGreaterThan(20);
    const validator = createFhirValidator();
    const routes = jsonIntakeRoutes().sort((a, b) => Number(a.path === '/fhir') - Number(b.path === '/fhir'));
    const { ids, seeds } = await prepareFuzz(t, gp, [...builtInSeeds(), ...corpus]);
    const report = await runFuzz({ t, validator, routes, seeds, ids, seed, runsPerRoute: RUNS });
    const invalid = await checkStoredAndDelivered(t, gp, validator);
    console.log(describeReport(report, (Date.now() - started) / 1000));
    expect(report.failures).toEqual([]);
    expect(invalid).toEqual([]);
    // Bounded: the whole run, checks included, well inside CI's five minutes (a hang fails here too).
  }, 240000);
});
