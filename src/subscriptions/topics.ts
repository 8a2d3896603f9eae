import type { Basic } from 'fhir/r4';
import { topicAsBasic } from '../mappers/subscription/topic-basic';
import { CANONICAL_BASE } from '../mappers/systems';
import { kindsOfTopic, type MessageKind, type TopicId } from '../messages/message-kinds';

/**
 * The SubscriptionTopics the gateway publishes (R5 Subscriptions Backport for R4): which message kinds
 * raise an event on which topic, and whose subscriptions see it. Documents and admission/discharge events
 * go to the patient's listed GP practice at the time of the event; status-report requests to the practice
 * they are addressed to.
 */
export interface Topic {
  url: string;
  title: string;
  description: string;
  /** From the table of message kinds (messages/message-kinds.ts: each kind names its topic). */
  kinds: readonly MessageKind[];
  /** Who may see the event: the patient's listed practice, or the message's addressee. */
  audience: 'listed-practice' | 'addressee';
  focusType: 'Bundle' | 'Task';
  /** The data class the event's content is, for the consent check on full-resource payloads. */
  dataClass: string;
}

const TOPIC: Record<TopicId, Omit<Topic, 'kinds'>> = {
  'clinical-document': {
    url: `${CANONICAL_BASE}/SubscriptionTopic/clinical-document`,
    title: 'Nyt klinisk dokument (new clinical document)',
    description:
      'A discharge letter or another clinical document about a patient listed with the practice passed through the gateway.',
    audience: 'listed-practice',
    focusType: 'Bundle',
    dataClass: 'clinical-document',
  },
  'encounter-notification': {
    url: `${CANONICAL_BASE}/SubscriptionTopic/encounter-notification`,
    title: 'Indlæggelse og udskrivning (admission and discharge)',
    description: 'A patient listed with the practice was admitted or discharged.',
    audience: 'listed-practice',
    focusType: 'Bundle',
    dataClass: 'encounter-notification',
  },
  'status-report-request': {
    url: `${CANONICAL_BASE}/SubscriptionTopic/status-report-request`,
    title: 'Anmodning om statusoplysninger (status-report request)',
    description: 'A jobcentre asked the practice for a status report, or followed one up.',
    audience: 'addressee',
    focusType: 'Task',
    dataClass: 'status-report-request',
  },
  'symptom-report-alert': {
    url: `${CANONICAL_BASE}/SubscriptionTopic/symptom-report-alert`,
    title: 'Symptomalarm (symptom report alert)',
    description:
      "A patient's own symptom report fired an alert addressed to the organisation (care manager or own GP), where the patient's consent names it for symptom reports.",
    audience: 'addressee',
    focusType: 'Bundle',
    dataClass: 'symptom-report',
  },
};

/** The topics, each with the kinds whose row names it. */
export const TOPICS: readonly Topic[] = (Object.keys(TOPIC) as TopicId[]).map((id) => ({
  ...TOPIC[id],
  kinds: kindsOfTopic(id),
}));

export function topicOfKind(kind: string): Topic | undefined {
  return TOPICS.find((t) => t.kinds.some((k) => k === kind));
}

export function topicByUrl(url: string): Topic | undefined {
  return TOPICS.find((t) => t.url === url);
}

/** What every topic can be filtered by (subscription-request.ts reads these filters). */
const FILTERS = [
  {
    description: 'The patient, by CPR (Patient?identifier=urn:oid:1.2.208.176.1.2|<cpr>)',
    resource: 'Patient',
    filterParameter: 'identifier',
  },
  {
    description:
      'All patients listed with the practice (Patient?general-practitioner=urn:oid:1.2.208.176.1.1|<SOR>); the default',
    resource: 'Patient',
    filterParameter: 'general-practitioner',
  },
] as const;

/** The topics as R4 resources: Basic-wrapped, as the backport IG recommends for R4 (GET /fhir/Basic?code=SubscriptionTopic). */
export function topicBasics(): Basic[] {
  return TOPICS.map((t) => topicAsBasic({ ...t, filters: FILTERS }));
}

/**
 * The topics as R5 SubscriptionTopic resources, for R4B and R5 clients that ask GET /fhir/SubscriptionTopic.
 * An R4 parser rejects this resource type; R4 clients read topicBasics().
 */
export function subscriptionTopicResources(): Array<Record<string, unknown>> {
  return TOPICS.map((t) => ({
    resourceType: 'SubscriptionTopic',
    id: t.url.split('/').pop(),
    url: t.url,
    title: t.title,
    status: 'active',
    description: t.description,
    resourceTrigger: [{ description: t.description, resource: t.focusType, supportedInteraction: ['create'] }],
    canFilterBy: FILTERS.map((f) => ({ ...f })),
    notificationShape: [{ resource: t.focusType }],
  }));
}
