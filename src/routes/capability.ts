import type { CapabilityStatement } from 'fhir/r4';
import { Router } from 'express';
import type { Config } from '../config';
import { BACKPORT } from '../mappers/subscription/backport';
import { TOPICS } from '../subscriptions/topics';
import { DIRECTORY_TYPES } from '../directory/search-directory';

/** GET /fhir/metadata: what the gateway's FHIR endpoint supports, for integrators' tooling. */
export function capabilityRoutes(config: Pick<Config, 'publicBaseUrl'>): Router {
  const router = Router();
  const statement: CapabilityStatement = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    kind: 'instance',
    software: { name: 'Sektorbro', version: '0.1.0' },
    implementation: { description: 'Sektorbro cross-sector FHIR gateway', url: `${config.publicBaseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          description: 'API key as a bearer token (Authorization: Bearer <key>); roles decide what a client may do.',
        },
        resource: [
          ...DIRECTORY_TYPES.map((type) => ({
            type,
            interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
            searchParam: [{ name: 'identifier', type: 'token' as const }],
          })),
          {
            type: 'Task',
            interaction: [{ code: 'read' as const }, { code: 'search-type' as const }, { code: 'create' as const }],
            searchParam: ['owner', 'requester', 'status', 'patient', 'part-of'].map((name) => ({
              name,
              type: 'token' as const,
            })),
          },
          {
            // R4 has no SubscriptionTopic: the backport's topics are Basic resources coded fhir-types#SubscriptionTopic.
            type: 'Basic',
            interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
            searchParam: [
              {
                name: 'code',
                type: 'token' as const,
                documentation:
                  'http://hl7.org/fhir/fhir-types|SubscriptionTopic: the subscription topics (Basic holds nothing else here)',
              },
            ],
          },
          {
            type: 'Consent',
            versioning: 'versioned' as const,
            interaction: [
              { code: 'read' as const },
              { code: 'vread' as const },
              { code: 'history-instance' as const },
              { code: 'search-type' as const },
              { code: 'create' as const },
              { code: 'update' as const },
              { code: 'delete' as const },
            ],
          },
          {
            type: 'Subscription',
            // The R5 Subscriptions Backport: the topics this server publishes (GET /fhir/Basic?code=SubscriptionTopic).
            extension: TOPICS.map((t) => ({ url: BACKPORT.topicCanonical, valueCanonical: t.url })),
            supportedProfile: [BACKPORT.subscriptionProfile],
            interaction: [
              { code: 'read' as const },
              { code: 'search-type' as const },
              { code: 'create' as const },
              { code: 'update' as const },
              { code: 'delete' as const },
            ],
            operation: [
              {
                name: 'status',
                definition:
                  'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
              },
              {
                name: 'events',
                definition:
                  'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events',
              },
            ],
          },
        ],
        interaction: [{ code: 'batch' }, { code: 'transaction' }],
        operation: [
          {
            name: 'process-message',
            definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
          },
        ],
      },
    ],
    messaging: [
      {
        endpoint: [
          {
            protocol: { system: 'http://terminology.hl7.org/CodeSystem/message-transport', code: 'http' },
            address: `${config.publicBaseUrl}/fhir`,
          },
        ],
      },
    ],
  };
  router.get('/fhir/metadata', (_req, res) => {
    res.type('application/fhir+json').send(JSON.stringify(statement));
  });
  return router;
}
