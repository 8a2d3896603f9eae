import type { Parameters } from 'fhir/r4';
import { BACKPORT } from '../../../src/mappers/subscription/backport';
import { notificationBundle } from '../../../src/mappers/subscription/notification';
import { readSubscription } from '../../../src/mappers/subscription/subscription-request';
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

describe('Subscription requests (backport)', () => {
  it('reads topic, patient filter, content and heartbeat', () => {
    const { spec, issues } = readSubscription(
      base({
        _criteria: { extension: [{ url: BACKPORT.filterCriteria, valueString: 'Patient?identifier=urn:oid:1.2.208.176.1.2|0101901234' }] },
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
    );
    expect(issues).toEqual([]);
    expect(spec).toMatchObject({ topic: TOPIC, patientCpr: '0101901234', practiceSor: undefined, content: 'full-resource', heartbeatSeconds: 60, headers: ['Authorization: Bearer x'] });
    expect(readSubscription(base(), [TOPIC]).spec?.content).toBe('id-only');
  });

  it('names every problem', () => {
    const { issues } = readSubscription(
      base({
        criteria: 'http://example.org/other',
        _criteria: { extension: [{ url: BACKPORT.filterCriteria, valueString: 'Observation?code=x' }] },
        channel: { type: 'websocket', endpoint: 'ftp://x', header: ['bad header\r\nInjected: 1'] },
      }),
      [TOPIC],
    );
    expect(issues.map((i) => i.expression)).toEqual(['Subscription.criteria', 'Subscription.criteria.extension', 'Subscription.channel.type', 'Subscription.channel.endpoint', 'Subscription.channel.header']);
  });
});

describe('notification bundles', () => {
  const status = { subscriptionUrl: 'http://gw/fhir/Subscription/s1', topic: TOPIC, status: 'active' as const, type: 'event-notification' as const, eventsSinceStart: 7 };
  const event = { eventNumber: 7, timestamp: '2026-11-22T10:00:00Z', focusType: 'Bundle', focusUrl: 'http://gw/fhir/Bundle/b1', resource: { resourceType: 'Bundle' as const, type: 'message' as const } };

  it('is a history Bundle with the SubscriptionStatus first and the event number as a string', () => {
    const bundle = notificationBundle(status, [event], 'full-resource', testContext());
    expect(bundle.type).toBe('history');
    const parameters = bundle.entry?.[0]?.resource as Parameters;
    expect(parameters.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('7');
    expect(parameters.parameter?.find((p) => p.name === 'notification-event')?.part?.[0]).toEqual({ name: 'event-number', valueString: '7' });
    expect(bundle.entry?.[1]?.resource?.resourceType).toBe('Bundle');
  });

  it('carries the focus URL only for id-only, and nothing for empty', () => {
    expect(notificationBundle(status, [event], 'id-only', testContext()).entry?.[1]).toEqual({ fullUrl: event.focusUrl, request: { method: 'POST', url: 'Bundle' }, response: { status: '201' } });
    const empty = notificationBundle(status, [event], 'empty', testContext());
    expect(empty.entry).toHaveLength(1);
    expect(JSON.stringify(empty)).not.toContain('Bundle/b1');
  });
});
