import type { Subscription } from 'fhir/r4';
import type { IssueInput } from '../../errors';
import { SYSTEM } from '../systems';
import { BACKPORT, PAYLOAD_CONTENTS, type PayloadContent } from './backport';

/**
 * A GP system's Subscription (backport profile) read into what the gateway needs: the topic, whose events
 * (one patient by CPR, or every patient listed with a practice), the rest-hook endpoint and headers, the
 * payload content and the heartbeat. Every problem is reported, naming the element.
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

export function readSubscription(body: unknown, knownTopics: readonly string[]): { spec?: SubscriptionSpec; issues: IssueInput[] } {
  const s = body as Partial<Subscription> | null;
  if (!s || typeof s !== 'object' || s.resourceType !== 'Subscription') {
    return { issues: [{ diagnostics: 'resourceType must be "Subscription"', expression: 'resourceType' }] };
  }
  const issues: IssueInput[] = [];
  const topic = s.criteria ?? '';
  if (!knownTopics.includes(topic)) {
    issues.push({ diagnostics: `Subscription.criteria: a SubscriptionTopic canonical this gateway publishes (${knownTopics.join(', ')}; GET /fhir/SubscriptionTopic)`, expression: 'Subscription.criteria', reason: 'unknown-topic' });
  }
  const ext = s as Subscription & { _criteria?: { extension?: Array<{ url: string; valueString?: string }> } };
  const filters = (ext._criteria?.extension ?? []).filter((e) => e.url === BACKPORT.filterCriteria).map((e) => e.valueString ?? '');
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
    issues.push({ diagnostics: 'Subscription.channel.type: only rest-hook is supported', expression: 'Subscription.channel.type', reason: 'unsupported-channel' });
  }
  const endpoint = channel?.endpoint ?? '';
  if (!/^https?:\/\/\S+$/.test(endpoint)) {
    issues.push({ diagnostics: 'Subscription.channel.endpoint: the rest-hook URL (http or https)', expression: 'Subscription.channel.endpoint' });
  }
  if (channel?.payload !== undefined && channel.payload !== 'application/fhir+json') {
    issues.push({ diagnostics: 'Subscription.channel.payload: application/fhir+json', expression: 'Subscription.channel.payload' });
  }
  const channelExt = channel;
  const content = (channelExt?._payload?.extension ?? []).find((e) => e.url === BACKPORT.payloadContent)?.valueCode ?? 'id-only';
  if (!(PAYLOAD_CONTENTS as readonly string[]).includes(content)) {
    issues.push({ diagnostics: `Subscription.channel.payload.extension(backport-payload-content): ${PAYLOAD_CONTENTS.join(' | ')}`, expression: 'Subscription.channel.payload' });
  }
  const heartbeat = (channel?.extension ?? []).find((e) => e.url === BACKPORT.heartbeatPeriod)?.valueUnsignedInt;
  if (heartbeat !== undefined && (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat > 86400)) {
    issues.push({ diagnostics: 'Subscription.channel.extension(backport-heartbeat-period): seconds, 1 to 86400', expression: 'Subscription.channel.extension' });
  }
  const headers = channel?.header ?? [];
  if (headers.some((h) => !/^[A-Za-z0-9-]+: ?[^\r\n]*$/.test(h)) || headers.length > 10) {
    issues.push({ diagnostics: 'Subscription.channel.header: at most 10 headers, each "Name: value"', expression: 'Subscription.channel.header' });
  }
  if (s.end !== undefined && Number.isNaN(Date.parse(s.end))) {
    issues.push({ diagnostics: 'Subscription.end: an instant', expression: 'Subscription.end' });
  }
  if (issues.length > 0) {
    return { issues };
  }
  return { issues, spec: { topic, patientCpr, practiceSor, endpoint, headers, content: content as PayloadContent, heartbeatSeconds: heartbeat, end: s.end } };
}
