import { KEY, startGatewayWithGp, type TestGateway } from '../helpers/test-gateway';

/** The small answers of issue 17: every 4xx carries the machine-readable reason the error contract promises. */
describe('small answers', () => {
  let t: TestGateway;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ t, close } = await startGatewayWithGp());
  });

  afterAll(async () => {
    await close();
  });

  const reasons = (body: { issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> }) =>
    (body.issue ?? []).flatMap((i) => (i.details?.coding ?? []).map((c) => c.code));

  it.each(['x-application/hl7-v2+er7', 'application/hl7-v2'])(
    'answers an HL7 body (%s) that does not begin with MSH with 400 malformed-hl7, not 415',
    async (type) => {
      const res = await t.http
        .post('/discharge-letters')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .set('Content-Type', type)
        .send('PID|1||0101901234^^^CPR\r');
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(reasons(res.body)).toContain('malformed-hl7');
      expect(res.body.issue[0].diagnostics).toMatch(/MSH/);
    },
  );

  it('still answers text/plain that is not HL7 with 415 (plain text is HL7 only when it starts with MSH)', async () => {
    const res = await t.http
      .post('/discharge-letters')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'text/plain')
      .send('hello');
    expect(res.status).toBe(415);
    expect(reasons(res.body)).toContain('unsupported-media-type');
  });

  it.each([
    ['/fhir/Task', KEY.jobcentre],
    ['/fhir/Subscription', KEY.gp],
  ])('answers POST %s {} with 400 and a reason code', async (path, key) => {
    const res = await t.http
      .post(path)
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'application/fhir+json')
      .send('{}');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const codes = reasons(res.body);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((c) => typeof c === 'string' && c.length > 0)).toBe(true);
    expect(res.body.issue[0].expression?.[0] ?? '').toMatch(/resourceType/);
  });
});
