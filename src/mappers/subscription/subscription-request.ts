import type { Subscription } from 'fhir/r4';
import type { IssueInput } from '../../errors';
import type { OutboundPolicy } from '../../outbound/address-policy';
import { SYSTEM } from '../systems';
import { BACKPORT, PAYLOAD_CONTENTS, type PayloadContent } from './backport';
import { endpointProblem, headerProblems } from './rest-hook-channel';

/**
 * A GP system's Subscription (backport profile) read into what the gateway needs: the topic, whose events
 * (one patient by CPR, or every patient listed with a practice), the rest-hook endpoint and headers, the
 * payload content, the heartbeat and the end. Every problem is reported, naming the element. `rules` carries
 * what is not in the request: whether plain-http rest-hooks are allowed, and the time an `end` must lie after.
 */
export interface SubscriptionSpec {
  topic: string;
  /** One patient; undefined means every patient listed with `practiceSor`. */
  patientCpr: string | undefined;
  /** The practice named by a general-practitioner filter (must be the subscriber's own). */
  practiceSor: string | undefined;
  endpoint: string;
  headers: string[];
  content: PayloadContent;
  heartbeatSeconds: number | undefined;
  end: string | undefined;
}

export interface SubscriptionRules {
  allowHttp: boolean;
  /** Where rest-hooks may point (loopback, private, the gateway itself refused unless configured). */
  outbound?: OutboundPolicy | undefined;
  now: Date;
}

export function readSubscription(
  body: unknown,
  knownTopics: readonly string[],
  rules: SubscriptionRules,
): { spec?: SubscriptionSpec; issues: IssueInput[] } {
  const s = body as Partial<Subscription> | null;
  if (!s || typeof s !== 'object' || s.resourceType !== 'Subscription') {
    return { issues: [{ diagnostics: 'resourceType must be "Subscription"', expression: 'resourceType' }] };
  }
  const issues: IssueInput[] = [];
  const topic = s.criteria ?? '';
  if (!knownTopics.includes(topic)) {
    issues.push({
      diagnostics: `Subscription.criteria: a SubscriptionTopic canonical this gateway publishes (${knownTopics.join(', ')}; GET /fhir/Basic?code=SubscriptionTopic)`,
      expression: 'Subscription.criteria',
      reason: 'unknown-topic',
    });
  }
  const ext = s as Subscription & { _criteria?: { extension?: Array<{ url: string; valueString?: string }> } };
  const filters = (ext._criteria?.extension ?? [])
    .filter((e) => e.url === BACKPORT.filterCriteria)
    .map((e) => e.valueString ?? '');
  let patientCpr: string | undefined;
  let practiceSor: string | undefined;
  for (const f of filters) {
    const patient = /^Patient\?identifier=urn:oid:1\.2\.208\.176\.1\.2\|([0-9]{10})$/.exec(f);
    const listed = /^Patient\?general-practitioner=urn:oid:1\.2\.208\.176\.1\.1\|([0-9]{11,18})$/.exec(f);
    if (patient) {
      patientCpr = patient[1];
    } else if (listed) {
      practiceSor = listed[1];
    } else {
      issues.push({
        diagnostics: `Subscription.criteria.extension(backport-filter-criteria): "${f}" is not a filter this gateway takes: Patient?identifier=${SYSTEM.cpr}|<cpr> or Patient?general-practitioner=${SYSTEM.sor}|<SOR>`,
        expression: 'Subscription.criteria.extension',
        reason: 'unsupported-filter',
      });
    }
  }
  const channel = s.channel;
  if (channel?.type !== 'rest-hook') {
    issues.push({
      diagnostics: 'Subscription.channel.type: only rest-hook is supported',
      expression: 'Subscription.channel.type',
      reason: 'unsupported-channel',
    });
  }
  const endpoint = channel?.endpoint ?? '';
  const refused = endpointProblem(endpoint, rules.allowHttp, rules.outbound);
  if (refused) {
    issues.push({ diagnostics: refused, expression: 'Subscription.channel.endpoint', reason: 'endpoint-refused' });
  }
  if (channel?.payload !== undefined && channel.payload !== 'application/fhir+json') {
    issues.push({
      diagnostics: 'Subscription.channel.payload: application/fhir+json',
      expression: 'Subscription.channel.payload',
    });
  }
  const content =
    (channel?._payload?.extension ?? []).find((e) => e.url === BACKPORT.payloadContent)?.valueCode ?? 'id-only';
  if (!(PAYLOAD_CONTENTS as readonly string[]).includes(content)) {
    issues.push({
      diagnostics: `Subscription.channel.payload.extension(backport-payload-content): ${PAYLOAD_CONTENTS.join(' | ')}`,
      expression: 'Subscription.channel.payload',
    });
  }
  const heartbeat = (channel?.extension ?? []).find((e) => e.url === BACKPORT.heartbeatPeriod)?.valueUnsignedInt;
  if (heartbeat !== undefined && (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat > 86400)) {
    issues.push({
      diagnostics: 'Subscription.channel.extension(backport-heartbeat-period): seconds, 1 to 86400',
      expression: 'Subscription.channel.extension',
    });
  }
  const headers = channel?.header ?? [];
  for (const problem of headerProblems(headers)) {
    issues.push({ diagnostics: problem, expression: 'Subscription.channel.header' });
  }
  if (s.end !== undefined && !isInstant(s.end)) {
    issues.push({
      diagnostics:
        'Subscription.end: an instant, e.g. 2027-01-31T23:59:59Z (a date and time with seconds and a time zone)',
      expression: 'Subscription.end',
    });
  } else if (s.end !== undefined && Date.parse(s.end) <= rules.now.getTime()) {
    issues.push({
      diagnostics: 'Subscription.end: already passed; a subscription past its end is off',
      expression: 'Subscription.end',
      reason: 'end-passed',
    });
  }
  if (issues.length > 0) {
    return { issues };
  }
  return {
    issues,
    spec: {
      topic,
      patientCpr,
      practiceSor,
      endpoint,
      headers,
      content: content as PayloadContent,
      heartbeatSeconds: heartbeat,
      end: s.end,
    },
  };
}

/**
 * An R4 instant that names one real moment: Date.parse alone takes 30 February (rolling it over into March)
 * and spellings other readers of the stored Subscription would take differently or not at all.
 */
function isInstant(text: unknown): text is string {
  const m =
    typeof text === 'string'
      ? /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/.exec(
          text,
        )
      : null;
  if (!m) {
    return false;
  }
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return month >= 1 && month <= 12 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
