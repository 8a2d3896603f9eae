/** Canonicals of the R5 Subscriptions Backport IG for R4 (http://hl7.org/fhir/uv/subscriptions-backport). */
const BASE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

export const BACKPORT = {
  subscriptionProfile: `${BASE}/backport-subscription`,
  statusProfile: `${BASE}/backport-subscription-status-r4`,
  notificationProfile: `${BASE}/backport-subscription-notification-r4`,
  filterCriteria: `${BASE}/backport-filter-criteria`,
  payloadContent: `${BASE}/backport-payload-content`,
  heartbeatPeriod: `${BASE}/backport-heartbeat-period`,
  timeout: `${BASE}/backport-timeout`,
  maxCount: `${BASE}/backport-max-count`,
  topicCanonical: `${BASE}/capabilitystatement-subscriptiontopic-canonical`,
} as const;

export const PAYLOAD_CONTENTS = ['empty', 'id-only', 'full-resource'] as const;
export type PayloadContent = (typeof PAYLOAD_CONTENTS)[number];
export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';
export const SUBSCRIPTION_STATUSES = ['requested', 'active', 'error', 'off'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
