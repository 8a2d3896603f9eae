import type { Response } from 'supertest';
import type { MessageReceiver } from '../../scripts/fhir-message-receiver';
import { KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';
import { listShared, readShared } from './shared-dir';

/**
 * The FHIR JSON inputs of ../shared/corpus/bug-reports (each rebuilt from a public bug report against other FHIR
 * software), each posted as the hospital would post it, with the outcome the folder's README names. A JSON file
 * added there without an expectation here fails, so none is skipped silently. The HL7 v2 files have their own test.
 */
type Expectation = { status: 400; names: RegExp; says: RegExp } | { status: 202; delivered: (text: string) => void };

const EXPECTED: Record<string, Expectation> = {
  // hapifhir/hapi-fhir#142, #50: a date must exist in the calendar.
  '06-fhir-feb-30.json': { status: 400, names: /period\.start/, says: /2026-02-30 is not a date in the calendar/ },
  // hapifhir/hapi-fhir#848, LinuxForHealth/FHIR#1155: never guess which of two CPR identifiers was meant.
  '07-fhir-duplicate-keys.json': { status: 400, names: /identifier/, says: /given more than once/ },
  // microsoft/fhir-server#3100, hapifhir/hapi-fhir#1397: txt-1/txt-2, no active content.
  '08-fhir-script-in-narrative.json': { status: 400, names: /text\.div/, says: /<script>.*onclick/ },
  // FirelyTeam/firely-net-sdk#732, fhirbase/fhirbase-plv8#108: FHIR decimals keep their precision.
  '10-fhir-decimal-precision.json': {
    status: 202,
    delivered: (text) => {
      expect(text).toMatch(/"valueQuantity":\{[^}]*"value":0\.60[,}]/);
    },
  },
};

describe('bug-report FHIR JSON inputs (../shared/corpus/bug-reports)', () => {
  let gp: MessageReceiver;
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ gp, t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  const files = listShared('corpus/bug-reports')
    .filter((f) => f.endsWith('.json'))
    .sort();

  it('has an expected outcome for every JSON file', () => {
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s has the outcome its README names', async (file) => {
    const expected = EXPECTED[file];
    if (!expected) {
      throw new Error(`no expected outcome for ${file}`);
    }
    const before = gp.received.length;
    const uniqueBefore = gp.unique.size;
    const res: Response = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'application/fhir+json')
      .send(readShared('utf8', 'corpus/bug-reports', file));
    if (res.status !== expected.status) {
      throw new Error(`${file}: expected ${expected.status}, got ${res.status}: ${JSON.stringify(res.body)}`);
    }
    if (expected.status === 400) {
      const issue = (res.body.issue as Array<{ diagnostics?: string; expression?: string[] }>)[0];
      expect(issue?.expression?.join(' ')).toMatch(expected.names);
      expect(issue?.diagnostics).toMatch(expected.says);
      // Nothing was stored, so nothing reaches the GP.
      const stored = await t.db.query("SELECT id FROM messages WHERE kind = 'discharge-letter'");
      expect(stored).toHaveLength(0);
      expect(gp.received.length).toBe(before);
      return;
    }
    await gp.waitFor(uniqueBefore + 1);
    const delivered = gp.received.at(-1);
    expect(delivered).toBeDefined();
    expected.delivered(delivered?.text ?? '');
  });
});
