import { KEY, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * An id the database cannot hold as a uuid (here 36 hex digits without hyphens, which a looser pattern once
 * let through) is "not found" with an OperationOutcome, never a database error surfacing as a 500.
 */
describe('malformed ids', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  const bad = '0'.repeat(36);
  it.each([
    ['jobcentre', `/status-report-requests/${bad}`],
    ['gp', `/fhir/Task/${bad}`],
    ['gp', `/sick-leave-certificates/${bad}`],
    ['gp', `/fhir/Subscription/${bad}`],
    ['gp', `/fhir/Subscription/${bad}/$status`],
    ['gp', `/fhir/Bundle/${bad}`],
    ['hospital', `/messages/${bad}`],
    ['admin', `/dead-letters/${bad}`],
  ] as const)('%s GET %s is 404 with an OperationOutcome', async (role, path) => {
    const res = await t.http.get(path).set('Authorization', `Bearer ${KEY[role]}`);
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('refuses a part-of search parameter that is not a uuid with 400', async () => {
    const res = await t.http
      .get(`/status-report-requests?part-of=${bad}`)
      .set('Authorization', `Bearer ${KEY.jobcentre}`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/part-of/);
  });
});
