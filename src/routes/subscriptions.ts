import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { errors } from '../errors';
import { requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import {
  asResource,
  createSubscription,
  eventsBundle,
  readDeliveredBundle,
  statusBundle,
  subscriptionsOf,
  updateSubscription,
  visibleSubscription,
  type SubscriptionDeps,
} from '../subscriptions/subscription-service';
import { subscriptionTopicResources, topicBasics } from '../subscriptions/topics';
import { TOPIC_BASIC } from '../mappers/subscription/topic-basic';
import { queryString } from '../http/request-values';
import { bundleEntries } from '../mappers/bundle-entries';

/**
 * Topic-based Subscriptions (R5 Backport for R4): topics (as R4 Basic, and as SubscriptionTopic for R4B/R5
 * clients), CRUD, $status and $events, and the Bundles event foci name.
 */
export function subscriptionRoutes(deps: SubscriptionDeps): Router {
  const router = Router();
  const roles = requireRole('gp', 'hospital', 'caremanager', 'admin');

  // Basic holds nothing but topics here: no code, or the SubscriptionTopic code, finds them all; any other code none.
  router.get('/fhir/Basic', (req, res) => {
    const code = queryString(req.query.code, 'code');
    const { system, code: topicCode } = TOPIC_BASIC.code;
    const matches = code === undefined || code === topicCode || code === `${system}|${topicCode}`;
    const topics = matches ? topicBasics() : [];
    sendFhir(res, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: topics.length,
      ...bundleEntries(
        topics.map((t) => ({
          fullUrl: `${deps.baseUrl}/Basic/${t.id ?? ''}`,
          resource: t,
          search: { mode: 'match' },
        })),
      ),
    });
  });
  router.get('/fhir/Basic/:id', (req, res) => {
    const topic = topicBasics().find((t) => t.id === req.params.id);
    if (!topic) {
      throw errors.notFound({ diagnostics: `Basic/${req.params.id} not found` });
    }
    sendFhir(res, 200, topic);
  });
  router.get('/fhir/SubscriptionTopic', (_req, res) => {
    const topics = subscriptionTopicResources();
    sendFhir(res, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: topics.length,
      entry: topics.map((t) => ({ fullUrl: t.url, resource: t, search: { mode: 'match' } })),
    });
  });
  router.post('/fhir/Subscription', requireRole('gp', 'hospital', 'caremanager'), requireBody, async (req, res) => {
    const created = await createSubscription(deps, currentClient(res), req.body);
    res.location(`/fhir/Subscription/${created.id ?? ''}`);
    sendFhir(res, 201, created);
  });
  router.get('/fhir/Subscription', roles, async (_req, res) => {
    sendFhir(res, 200, await subscriptionsOf(deps, currentClient(res)));
  });
  router.get('/fhir/Subscription/:id', roles, async (req, res) => {
    sendFhir(res, 200, asResource(await visibleSubscription(deps, currentClient(res), String(req.params.id))));
  });
  router.put('/fhir/Subscription/:id', requireRole('gp', 'hospital', 'caremanager'), requireBody, async (req, res) => {
    sendFhir(res, 200, await updateSubscription(deps, currentClient(res), String(req.params.id), req.body));
  });
  router.delete('/fhir/Subscription/:id', requireRole('gp', 'hospital', 'caremanager'), async (req, res) => {
    sendFhir(res, 200, await updateSubscription(deps, currentClient(res), String(req.params.id), { status: 'off' }));
  });
  router.get('/fhir/Subscription/:id/\\$status', roles, async (req, res) => {
    sendFhir(res, 200, statusBundle(deps, await visibleSubscription(deps, currentClient(res), String(req.params.id))));
  });
  router.get('/fhir/Subscription/:id/\\$events', roles, async (req, res) => {
    const s = await visibleSubscription(deps, currentClient(res), String(req.params.id));
    sendFhir(
      res,
      200,
      await eventsBundle(deps, currentClient(res), s, {
        since: queryString(req.query.eventsSinceNumber, 'eventsSinceNumber'),
        until: queryString(req.query.eventsUntilNumber, 'eventsUntilNumber'),
        content: queryString(req.query.content, 'content'),
      }),
    );
  });
  // Every organisation role reads the Bundles addressed to it (linked from GET /messages?side=received), the care
  // manager too: its copies and the id-only notifications of its subscriptions point here.
  router.get(
    '/fhir/Bundle/:id',
    requireRole('gp', 'hospital', 'jobcentre', 'employer', 'caremanager', 'admin'),
    async (req, res) => {
      sendFhir(res, 200, await readDeliveredBundle(deps, currentClient(res), String(req.params.id)));
    },
  );
  return router;
}
