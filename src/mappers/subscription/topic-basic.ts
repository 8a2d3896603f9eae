import type { Basic, Extension } from 'fhir/r4';
import { narrative } from '../narrative';

/**
 * A SubscriptionTopic as FHIR R4 can carry it. R4 has no SubscriptionTopic resource type, so R4 parsers reject
 * one; the Subscriptions Backport IG (STU 1.2, example Basic/r4-encounter-complete) wraps a topic in `Basic`
 * with code fhir-types#SubscriptionTopic and cross-version extensions: the R5 ones for the plain elements
 * (url, title, description, and status as a modifier), the R4B ones for the backbone elements (resourceTrigger,
 * canFilterBy, notificationShape). Clients find them with `GET Basic?code=SubscriptionTopic`.
 */
export interface TopicDefinition {
  url: string;
  title: string;
  description: string;
  /** The resource type of the event focus, which is also the notification's shape. */
  focusType: string;
  filters: ReadonlyArray<{ description: string; resource: string; filterParameter: string }>;
}

const R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic';
const R4B = 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic';

export const TOPIC_BASIC = {
  code: { system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' },
  url: `${R5}.url`,
  title: `${R5}.title`,
  description: `${R5}.description`,
  status: `${R5}.status`,
  resourceTrigger: `${R4B}.resourceTrigger`,
  canFilterBy: `${R4B}.canFilterBy`,
  notificationShape: `${R4B}.notificationShape`,
} as const;

export function topicAsBasic(topic: TopicDefinition): Basic {
  const backbone = (url: string, parts: Extension[]): Extension => ({ url, extension: parts });
  return {
    resourceType: 'Basic',
    id: topic.url.split('/').pop() ?? topic.url,
    text: narrative(`SubscriptionTopic ${topic.url}: ${topic.title}`, topic.description),
    modifierExtension: [{ url: TOPIC_BASIC.status, valueCode: 'active' }],
    extension: [
      { url: TOPIC_BASIC.url, valueUri: topic.url },
      { url: TOPIC_BASIC.title, valueString: topic.title },
      { url: TOPIC_BASIC.description, valueMarkdown: topic.description },
      backbone(TOPIC_BASIC.resourceTrigger, [
        { url: 'description', valueMarkdown: topic.description },
        { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${topic.focusType}` },
        { url: 'supportedInteraction', valueCode: 'create' },
      ]),
      ...topic.filters.map((f) =>
        backbone(TOPIC_BASIC.canFilterBy, [
          { url: 'description', valueMarkdown: f.description },
          { url: 'resource', valueUri: f.resource },
          { url: 'filterParameter', valueString: f.filterParameter },
        ]),
      ),
      backbone(TOPIC_BASIC.notificationShape, [{ url: 'resource', valueUri: topic.focusType }]),
    ],
    code: { coding: [{ ...TOPIC_BASIC.code }], text: 'SubscriptionTopic' },
  };
}
