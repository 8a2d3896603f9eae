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
import { subscriptionTopicResources } from '../subscriptions/topics';

/** Topic-based Subscriptions (R5 Backport for R4): topics, CRUD, $status and $events. */
export function subscriptionRoutes(deps: SubscriptionDeps): Router {
  const router = Router();
  const roles = requireRole('gp', 'hospital', 'admin');
  const text = (v: unknown, name: string) => {
    if (v !== undefined && typeof v !== 'string') {
      throw errors.invalid({ diagnostics: `${name}: give it once`, expression: name });
    }
    return v;
  };

  router.get('/fhir/SubscriptionTopic', async (_req, res) => {
    const topics = subscriptionTopicResources();
    sendFhir(res, 200, { resourceType: 'Bundle', type: 'searchset', total: topics.length, entry: topics.map((t) => ({ fullUrl: t.url, resource: t, search: { mode: 'match' } })) });
    await Promise.resolve();
  });
  router.post('/fhir/Subscription', requireRole('gp', 'hospital'), requireBody, async (req, res) => {
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
  router.put('/fhir/Subscription/:id', requireRole('gp', 'hospital'), requireBody, async (req, res) => {
    sendFhir(res, 200, await updateSubscription(deps, currentClient(res), String(req.params.id), req.body));
  });
  router.delete('/fhir/Subscription/:id', requireRole('gp', 'hospital'), async (req, res) => {
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
      await eventsBundle(deps, s, {
        since: text(req.query.eventsSinceNumber, 'eventsSinceNumber'),
        until: text(req.query.eventsUntilNumber, 'eventsUntilNumber'),
        content: text(req.query.content, 'content'),
      }),
    );
  });
  router.get('/fhir/Bundle/:id', roles, async (req, res) => {
    sendFhir(res, 200, await readDeliveredBundle(deps, currentClient(res), String(req.params.id)));
  });
  return router;
}
