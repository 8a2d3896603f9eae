import type { Parameters } from 'fhir/r4';
import { mapNativeDischargeLetter } from '../../../src/mappers/discharge-letter/from-native';
import { buildMessageBundle } from '../../../src/mappers/message/build-message';
import { BACKPORT } from '../../../src/mappers/subscription/backport';
import { listedPracticeCopy } from '../../../src/mappers/subscription/listed-practice-copy';
import { notificationBundle } from '../../../src/mappers/subscription/notification';
import { readSubscription } from '../../../src/mappers/subscription/subscription-request';
import { TOPIC_BASIC, topicAsBasic } from '../../../src/mappers/subscription/topic-basic';
import { getDefaultValidator } from '../../../src/validation';
import { nativeLetter } from '../../helpers/fixtures';
import { testContext } from '../../helpers/mapping-context';

const TOPIC = 'http://sektorbro.dk/fhir/SubscriptionTopic/clinical-document';
const base = (extra: Record<string, unknown> = {}) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'r',
  criteria: TOPIC,
  channel: { type: 'rest-hook', endpoint: 'https://gp.example/hook', payload: 'application/fhir+json' },
  ...extra,
});
const RULES = { allowHttp: false, now: new Date('2026-11-22T10:00:00Z') };
const channel = (extra: Record<string, unknown>) => ({
  channel: { type: 'rest-hook', endpoint: 'https://gp.example/hook', payload: 'application/fhir+json', ...extra },
});
const problems = (extra: Record<string, unknown>, rules = RULES) =>
  readSubscription(base(extra), [TOPIC], rules).issues;

describe('Subscription requests (backport)', () => {
  it('reads topic, patient filter, content and heartbeat', () => {
    const { spec, issues } = readSubscription(
      base({
        _criteria: {
          extension: [
            { url: BACKPORT.filterCriteria, valueString: 'Patient?identifier=urn:oid:1.2.208.176.1.2|0101901234' },
          ],
        },
        channel: {
          type: 'rest-hook',
          endpoint: 'https://gp.example/hook',
          payload: 'application/fhir+json',
          _payload: { extension: [{ url: BACKPORT.payloadContent, valueCode: 'full-resource' }] },
          extension: [{ url: BACKPORT.heartbeatPeriod, valueUnsignedInt: 60 }],
          header: ['Authorization: Bearer x'],
        },
      }),
      [TOPIC],
      RULES,
    );
    expect(issues).toEqual([]);
    expect(spec).toMatchObject({
      topic: TOPIC,
      patientCpr: '0101901234',
      practiceSor: undefined,
      content: 'full-resource',
      heartbeatSeconds: 60,
      headers: ['Authorization: Bearer x'],
    });
    expect(readSubscription(base(), [TOPIC], RULES).spec?.content).toBe('id-only');
  });

  it('names every problem', () => {
    const { issues } = readSubscription(
      base({
        criteria: 'http://example.org/other',
        _criteria: { extension: [{ url: BACKPORT.filterCriteria, valueString: 'Observation?code=x' }] },
        channel: { type: 'websocket', endpoint: 'ftp://x', header: ['bad header\r\nInjected: 1'] },
      }),
      [TOPIC],
      RULES,
    );
    expect(issues.map((i) => i.expression)).toEqual([
      'Subscription.criteria',
      'Subscription.criteria.extension',
      'Subscription.channel.type',
      'Subscription.channel.endpoint',
      'Subscription.channel.header',
    ]);
  });
});

describe('rest-hook channels', () => {
  it('takes https, and plain http only where the setting allows it', () => {
    expect(problems(channel({}))).toEqual([]);
    const plain = problems(channel({ endpoint: 'http://gp.example/hook' }));
    expect(plain.map((i) => i.expression)).toEqual(['Subscription.channel.endpoint']);
    expect(plain[0]?.diagnostics).toMatch(/https/);
    expect(problems(channel({ endpoint: 'http://127.0.0.1:8090/hook' }), { ...RULES, allowHttp: true })).toEqual([]);
  });

  it('refuses endpoints that are not absolute https URLs or carry credentials', () => {
    for (const endpoint of [
      'ftp://gp.example/x',
      'https://',
      'gp.example/hook',
      'https://gp.example/a b',
      'https://user:secret@gp.example/hook',
      `https://gp.example/${'x'.repeat(2100)}`,
      '',
    ]) {
      expect([endpoint, problems(channel({ endpoint })).map((i) => i.expression)]).toEqual([
        endpoint,
        ['Subscription.channel.endpoint'],
      ]);
    }
  });

  it('refuses headers that would replace what the gateway sets, and too many or too long ones, never echoing a value', () => {
    for (const name of ['Content-Type', 'content-length', 'Host', 'Transfer-Encoding', 'Connection']) {
      const found = problems(channel({ header: [`${name}: secret-value`] }));
      expect(found.map((i) => i.expression)).toEqual(['Subscription.channel.header']);
      expect(found[0]?.diagnostics).toContain(name);
      expect(JSON.stringify(found)).not.toContain('secret-value');
    }
    expect(
      problems(channel({ header: Array.from({ length: 11 }, (_v, i) => `X-H${i}: v`) })).map((i) => i.expression),
    ).toEqual(['Subscription.channel.header']);
    expect(
      problems(channel({ header: [`Authorization: Bearer ${'x'.repeat(1100)}`] })).map((i) => i.expression),
    ).toEqual(['Subscription.channel.header']);
    expect(
      problems(channel({ header: ['Authorization: Bearer a', 'authorization: Bearer b'] })).map((i) => i.expression),
    ).toEqual(['Subscription.channel.header']);
    expect(problems(channel({ header: ['Authorization: Bearer x', 'X-Practice: 481101000016000'] }))).toEqual([]);
  });
});

describe('Subscription.end', () => {
  it('takes a future instant, and refuses one that has passed or is not an instant', () => {
    expect(problems({ end: '2027-01-31T23:59:59Z' })).toEqual([]);
    expect(readSubscription(base({ end: '2027-01-31T23:59:59+01:00' }), [TOPIC], RULES).spec?.end).toBe(
      '2027-01-31T23:59:59+01:00',
    );
    for (const end of ['2026-11-22T09:59:59Z', '2027-02-30T00:00:00Z', '2027-01-31', 'tomorrow']) {
      expect([end, problems({ end }).map((i) => i.expression)]).toEqual([end, ['Subscription.end']]);
    }
  });
});

describe('topics in R4', () => {
  const topic = {
    url: TOPIC,
    title: 'Nyt klinisk dokument',
    description: 'A document about a listed patient.',
    focusType: 'Bundle',
    filters: [{ description: 'The patient, by CPR', resource: 'Patient', filterParameter: 'identifier' }],
  };

  it('are Basic resources coded SubscriptionTopic with the backport cross-version extensions, valid R4', () => {
    const basic = topicAsBasic(topic);
    expect(basic.resourceType).toBe('Basic');
    expect(basic.code.coding).toEqual([{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }]);
    expect(basic.extension?.find((e) => e.url === TOPIC_BASIC.url)?.valueUri).toBe(TOPIC);
    expect(basic.modifierExtension).toEqual([
      { url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.status', valueCode: 'active' },
    ]);
    const trigger = basic.extension?.find(
      (e) => e.url === 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic.resourceTrigger',
    );
    expect(trigger?.extension?.find((e) => e.url === 'resource')?.valueUri).toBe(
      'http://hl7.org/fhir/StructureDefinition/Bundle',
    );
    expect(basic.extension?.filter((e) => e.url === TOPIC_BASIC.canFilterBy)).toHaveLength(1);
    expect(
      getDefaultValidator()
        .validate(basic)
        .filter((i) => i.severity === 'error' || i.severity === 'fatal'),
    ).toEqual([]);
  });
});

describe("the listed practice's copy of a message", () => {
  const ctx = testContext();
  const message = buildMessageBundle({
    document: mapNativeDischargeLetter(nativeLetter(), ctx),
    event: 'discharge-letter',
    messageHeaderId: 'aaaaaaaa-0000-4000-8000-000000000001',
    bundleId: 'bbbbbbbb-0000-4000-8000-000000000001',
    sender: { sor: '265161000016004' },
    receiver: { sor: '481201000016008', name: 'Lægehuset Andenby', endpointAddress: 'https://andenby.example/fhir' },
    ctx,
  });

  it('keeps the document and drops the addressing: no MessageHeader, no message Provenance, not the addressee', () => {
    const copy = listedPracticeCopy(message, 'cccccccc-0000-4000-8000-000000000001');
    expect(copy).toMatchObject({
      resourceType: 'Bundle',
      id: 'cccccccc-0000-4000-8000-000000000001',
      type: 'collection',
      timestamp: message.timestamp,
    });
    const types = (copy.entry ?? []).map((e) => e.resource?.resourceType);
    expect(types).toContain('Composition');
    expect(types).toContain('Patient');
    expect(types).not.toContain('MessageHeader');
    expect(JSON.stringify(copy)).not.toContain('481201000016008');
    expect(JSON.stringify(copy)).not.toContain('andenby.example');
    // Every entry of the document is still there.
    const kept = new Set((copy.entry ?? []).map((e) => e.fullUrl));
    const composition = (message.entry ?? []).find((e) => e.resource?.resourceType === 'Composition');
    expect(kept.has(composition?.fullUrl)).toBe(true);
    expect(
      getDefaultValidator()
        .validate(copy)
        .filter((i) => i.severity === 'error' || i.severity === 'fatal'),
    ).toEqual([]);
  });

  it('leaves the message itself alone', () => {
    const before = JSON.stringify(message);
    listedPracticeCopy(message, 'x');
    expect(JSON.stringify(message)).toBe(before);
  });
});

describe('notification bundles', () => {
  const status = {
    subscriptionUrl: 'http://gw/fhir/Subscription/s1',
    topic: TOPIC,
    status: 'active' as const,
    type: 'event-notification' as const,
    eventsSinceStart: 7,
  };
  const event = {
    eventNumber: 7,
    timestamp: '2026-11-22T10:00:00Z',
    focusType: 'Bundle',
    focusUrl: 'http://gw/fhir/Bundle/b1',
    resource: { resourceType: 'Bundle' as const, type: 'message' as const },
  };

  it('is a history Bundle with the SubscriptionStatus first and the event number as a string', () => {
    const bundle = notificationBundle(status, [event], 'full-resource', testContext());
    expect(bundle.type).toBe('history');
    const parameters = bundle.entry?.[0]?.resource as Parameters;
    expect(parameters.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('7');
    expect(parameters.parameter?.find((p) => p.name === 'notification-event')?.part?.[0]).toEqual({
      name: 'event-number',
      valueString: '7',
    });
    expect(bundle.entry?.[1]?.resource?.resourceType).toBe('Bundle');
  });

  it('carries the focus URL only for id-only, and nothing for empty', () => {
    expect(notificationBundle(status, [event], 'id-only', testContext()).entry?.[1]).toEqual({
      fullUrl: event.focusUrl,
      request: { method: 'POST', url: 'Bundle' },
      response: { status: '201' },
    });
    const empty = notificationBundle(status, [event], 'empty', testContext());
    expect(empty.entry).toHaveLength(1);
    expect(JSON.stringify(empty)).not.toContain('Bundle/b1');
  });
});
