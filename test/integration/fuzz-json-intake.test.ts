import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { createFhirValidator } from '../../src/validation/fhir-validator';
import {
  builtInSeeds,
  checkStoredAndDelivered,
  describeReport,
  fuzzSeed,
  jsonIntakeRoutes,
  prepareFuzz,
  runFuzz,
} from '../helpers/fuzz-json';
import { startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/**
 * The small, self-contained part of the JSON intake fuzz suite (issue 14, item 6): every JSON intake route in
 * openapi.yaml, seeded from its openapi examples and examples/, a few inputs each. test/conformance has the
 * larger run that also seeds from ../shared/corpus. The seed is printed; FUZZ_SEED=<seed> replays a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? '8');

describe('JSON intake fuzz (openapi and examples/ seeds)', () => {
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
    const validator = createFhirValidator();
    // The directory load last: an accepted mutation of it changes what the other routes resolve.
    const routes = jsonIntakeRoutes().sort((a, b) => Number(a.path === '/fhir') - Number(b.path === '/fhir'));
    const { ids, seeds } = await prepareFuzz(t, gp, builtInSeeds());
    const report = await runFuzz({ t, validator, routes, seeds, ids, seed, runsPerRoute: RUNS });
    const invalid = await checkStoredAndDelivered(t, gp, validator);
    console.log(describeReport(report, (Date.now() - started) / 1000));
    expect(routes.length).toBeGreaterThanOrEqual(15);
    expect(report.failures).toEqual([]);
    expect(invalid).toEqual([]);
    // Bounded: the whole run, checks included, well inside CI's five minutes (a hang fails here too).
  }, 240000);
});
