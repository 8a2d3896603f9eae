import { randomUUID } from 'node:crypto';
import type { Bundle, Subscription } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import { findListedGp } from '../directory/directory';
import { errors } from '../errors';
import { BACKPORT, PAYLOAD_CONTENTS, type PayloadContent } from '../mappers/subscription/backport';
import { notificationBundle, subscriptionStatus, type EventInput } from '../mappers/subscription/notification';
import { readSubscription } from '../mappers/subscription/subscription-request';
import { CANONICAL_BASE, SYSTEM } from '../mappers/systems';
import { recordAudit } from '../audit/record-audit';
import type { FhirValidator } from '../validation/fhir-validator';
import type { Db } from '../store/db';
import { focusDocument } from './event-focus';
import { focusDisclosure } from './focus-disclosure';
import type { Notifier } from './notifier';
import { hasEnded } from './subscription-end';
import {
  eventsBetween,
  getSubscription,
  listSubscriptions,
  saveSubscription,
  setSubscriptionStatus,
  type SubscriptionRow,
} from './subscription-store';
import { TOPICS, topicByUrl, topicOfKind } from './topics';
import { refuseDisclosure } from '../consent/refuse-disclosure';
import { assertValidFhirInput } from '../validation/valid-fhir-input';
import { bundleEntries } from '../mappers/bundle-entries';

/**
 * Subscriptions for GP systems: create (a handshake activates it), read, update (status requested
 * reactivates one in error; off stops it), and the backport's $status and $events. A practice may subscribe
 * only to its own listed patients (or everything addressed to it); anything else is 403.
 */
export interface SubscriptionDeps {
  db: Db;
  notifier: Notifier | undefined;
  baseUrl: string;
  /** R4 validation of a Subscription before it is read or stored. */
  validator: FhirValidator;
  /** Decides the listed practice's copies (GET /fhir/Bundle); the notifier's when not given. */
  guard?: DisclosureGuard | undefined;
}

const GATEWAY = {
  clientId: 'sektorbro',
  organization: { system: `${CANONICAL_BASE}/NamingSystem/gateway`, value: 'sektorbro' },
};
const TREATMENT = { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' };

const MAX_EVENTS = 100;

export async function createSubscription(
  deps: SubscriptionDeps,
  client: GatewayClient,
  body: unknown,
  id: string = randomUUID(),
): Promise<Subscription> {
  // A valid R4 Subscription first (types, cardinality, codes): what is stored and handed back is FHIR.
  assertValidFhirInput(deps.validator, body);
  // Without a notifier nothing is ever posted; refuse plain http then, rather than store what could not be sent later.
  const { spec, issues } = readSubscription(
    body,
    TOPICS.map((t) => t.url),
    { allowHttp: deps.notifier?.allowHttp ?? false, outbound: deps.notifier?.outbound, now: new Date() },
  );
  if (!spec) {
    throw errors.invalid(...issues);
  }
  if (client.organization.system !== SYSTEM.sor) {
    throw errors.forbidden({
      diagnostics: 'subscriptions are for health-care organisations identified by SOR',
      reason: 'not-a-practice',
    });
  }
  if (spec.practiceSor && spec.practiceSor !== client.organization.value) {
    throw errors.forbidden({
      diagnostics: `Subscription.criteria: you may subscribe only to patients listed with your own practice (SOR ${client.organization.value})`,
      reason: 'not-your-patients',
    });
  }
  if (spec.patientCpr) {
    const { gp } = await findListedGp(deps.db, spec.patientCpr ?? '');
    if (gp?.sor !== client.organization.value) {
      throw errors.forbidden({
        diagnostics: 'Subscription.criteria: the patient is not listed with your practice',
        reason: 'not-your-patient',
      });
    }
    await assertConsentAllowsSubscription(deps, client, spec.topic, spec.patientCpr);
  }
  const resource: Subscription = {
    ...(body as Subscription),
    id,
    meta: { profile: [BACKPORT.subscriptionProfile] },
    status: 'requested',
    reason: (body as Subscription).reason ?? 'Sektorbro notifications',
  };
  await saveSubscription(deps.db, {
    id,
    clientId: client.id,
    org: client.organization,
    topic: spec.topic,
    patientCpr: spec.patientCpr ?? null,
    endpoint: spec.endpoint,
    headers: spec.headers,
    content: spec.content,
    heartbeatSeconds: spec.heartbeatSeconds ?? null,
    status: 'requested',
    resource,
  });
  await deps.notifier?.handshake(id);
  return resource;
}

/**
 * A subscription to one patient is itself a disclosure (every event says something happened to the patient):
 * refused with 403 when the patient's consent denies every kind of event of the topic to the practice, decided
 * as each event is (focusDisclosure), and written to the patient's disclosure log. The notifier checks each
 * event again before it is sent, so a consent recorded later stops an existing subscription's events too.
 */
async function assertConsentAllowsSubscription(
  deps: SubscriptionDeps,
  client: GatewayClient,
  topicUrl: string,
  cpr: string,
): Promise<void> {
  const guard = deps.guard ?? deps.notifier?.guard;
  const topic = topicByUrl(topicUrl);
  if (!guard || !topic) {
    throw errors.unavailable({ diagnostics: 'the consent check for subscriptions is not available in this process' });
  }
  const decisions = await Promise.all(
    topic.kinds.map((kind) => guard.decide(deps.db, cpr, focusDisclosure(topic, kind, client.organization))),
  );
  const denied = decisions.find((d) => !d.permit);
  if (!denied || decisions.some((d) => d.permit)) {
    return;
  }
  throw await refuseDisclosure(
    deps.db,
    {
      messageKind: 'subscription',
      messageId: randomUUID(),
      sender: GATEWAY,
      recipient: client.organization,
      purpose: TREATMENT,
      patientCpr: cpr,
      dataClasses: [topic.dataClass],
      reason: `subscription by ${client.id} to ${topic.title} refused: ${denied.reason}`,
    },
    denied,
    `Subscription.criteria: the patient's consent does not allow events about them to go to ${client.organization.value}`,
  );
}

/**
 * The subscription as the client may see it: its own organisation's, or any for an admin; else 404. One whose
 * end has passed is off, even before the notifier's poller has noticed.
 */
export async function visibleSubscription(
  deps: SubscriptionDeps,
  client: GatewayClient,
  id: string,
): Promise<SubscriptionRow> {
  const found = await getSubscription(deps.db, id);
  if (
    !found ||
    (client.role !== 'admin' &&
      (found.org.system !== client.organization.system || found.org.value !== client.organization.value))
  ) {
    throw errors.notFound({ diagnostics: `Subscription/${id} not found` });
  }
  if (found.status !== 'off' && hasEnded(found.resource.end)) {
    await setSubscriptionStatus(deps.db, found.id, 'off');
    return { ...found, status: 'off', error: null };
  }
  return found;
}

export function asResource(s: SubscriptionRow): Subscription {
  return { ...s.resource, id: s.id, status: s.status, ...(s.error ? { error: s.error } : {}) };
}

export async function updateSubscription(
  deps: SubscriptionDeps,
  client: GatewayClient,
  id: string,
  body: unknown,
): Promise<Subscription> {
  const current = await visibleSubscription(deps, client, id);
  const status = (body as Partial<Subscription> | null)?.status;
  if (status === 'off') {
    await setSubscriptionStatus(deps.db, id, 'off');
    return asResource({ ...current, status: 'off' });
  }
  // Anything else re-reads the whole resource and starts again with a handshake (this is how one in error is reactivated).
  return createSubscription(deps, client, { ...(body as object), id }, current.id);
}

export function statusBundle(deps: SubscriptionDeps, s: SubscriptionRow): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: 1,
    entry: [
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: subscriptionStatus(
          {
            subscriptionUrl: `${deps.baseUrl}/Subscription/${s.id}`,
            topic: s.topic,
            status: s.status,
            type: 'query-status',
            eventsSinceStart: s.eventsSinceStart,
            error: s.error,
          },
          [],
          s.content,
        ),
        search: { mode: 'match' },
      },
    ],
  };
}

/**
 * $events: the events numbered eventsSinceNumber..eventsUntilNumber (at most 100), for a receiver catching up.
 * Resources handed out are disclosed to the caller (the subscriber, or an admin), so the caller is audited.
 */
export async function eventsBundle(
  deps: SubscriptionDeps,
  client: GatewayClient,
  s: SubscriptionRow,
  params: { since?: string | undefined; until?: string | undefined; content?: string | undefined },
): Promise<Bundle> {
  const number = (v: string | undefined, name: string, fallback: number) => {
    if (v === undefined) {
      return fallback;
    }
    if (!/^[0-9]{1,15}$/.test(v)) {
      throw errors.invalid({ diagnostics: `${name}: an event number`, expression: name });
    }
    return Number(v);
  };
  const since = number(params.since, 'eventsSinceNumber', 1);
  const until = number(params.until, 'eventsUntilNumber', s.eventsSinceStart);
  if (params.content !== undefined && !(PAYLOAD_CONTENTS as readonly string[]).includes(params.content)) {
    throw errors.invalid({ diagnostics: `content: ${PAYLOAD_CONTENTS.join(' | ')}`, expression: 'content' });
  }
  // A receiver may ask for less than it subscribed to, never for more (PAYLOAD_CONTENTS runs from least to most).
  const rank = (c: string) => (PAYLOAD_CONTENTS as readonly string[]).indexOf(c);
  const content =
    params.content && rank(params.content) < rank(s.content) ? (params.content as PayloadContent) : s.content;
  const guard = deps.guard ?? deps.notifier?.guard;
  // Events about a patient whose consent now denies the subscriber what they are about are left out, as the
  // notifier leaves them unsent.
  const all = await eventsBetween(deps.db, s.id, since, until, MAX_EVENTS);
  const allowed = await Promise.all(
    all.map(
      async (e) =>
        !e.patientCpr ||
        (guard !== undefined &&
          (await guard.decide(deps.db, e.patientCpr, focusDisclosure(topicByUrl(s.topic), e.kind, s.org))).permit),
    ),
  );
  const events = all.filter((_e, i) => allowed[i]);
  const inputs: EventInput[] = await Promise.all(
    events.map(
      (e) =>
        deps.notifier?.eventInput(s, e, content) ??
        Promise.resolve({
          eventNumber: e.eventNumber,
          timestamp: e.occurredAt,
          focusType: e.focusType,
          focusUrl: `${deps.baseUrl}/${e.focusType}/${e.focusId}`,
        }),
    ),
  );
  // Resources handed out again are disclosures like the first time.
  const disclosed = events.filter((_e, i) => inputs[i]?.resource !== undefined);
  if (disclosed.length > 0) {
    await deps.db.transaction(async (tx) => {
      for (const e of disclosed) {
        await recordAudit(tx, {
          action: 'delivered',
          messageKind: 'subscription-notification',
          messageId: s.id,
          sender: GATEWAY,
          recipient: client.organization,
          purpose: TREATMENT,
          patientCpr: e.patientCpr ?? undefined,
          dataClasses: [`${e.kind} (full-resource)`],
          reason: `$events by ${client.id}, event ${e.eventNumber} of Subscription/${s.id}`,
        });
      }
    });
  }
  return notificationBundle(
    {
      subscriptionUrl: `${deps.baseUrl}/Subscription/${s.id}`,
      topic: s.topic,
      status: s.status,
      type: 'query-event',
      eventsSinceStart: s.eventsSinceStart,
      error: s.error,
    },
    inputs,
    content,
    { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.baseUrl },
  );
}

export async function subscriptionsOf(deps: SubscriptionDeps, client: GatewayClient): Promise<Bundle> {
  const rows = await listSubscriptions(deps.db, client.role === 'admin' ? undefined : client.organization);
  // Past its end is off, whether or not the notifier's poller has written that yet.
  const current = rows.map((r) =>
    r.status !== 'off' && hasEnded(r.resource.end) ? { ...r, status: 'off' as const, error: null } : r,
  );
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: current.length,
    ...bundleEntries(
      current.map((r) => ({
        fullUrl: `${deps.baseUrl}/Subscription/${r.id}`,
        resource: asResource(r),
        search: { mode: 'match' as const },
      })),
    ),
  };
}

/**
 * The Bundle an event's focus names, for a practice fetching what an id-only notification named: a delivery
 * as its recipient got it, or, for the patient's listed practice that was not an addressee, its copy
 * (event-focus.ts), which the disclosure guard must allow now. Anyone else (and a non-uuid) gets 404; an admin
 * may read any. Every read is written to the disclosure log, a refused one too.
 */
export async function readDeliveredBundle(deps: SubscriptionDeps, client: GatewayClient, id: string): Promise<Bundle> {
  const found = await focusDocument(deps.db, client.role === 'admin' ? undefined : client.organization, id);
  if (!found) {
    throw errors.notFound({ diagnostics: `Bundle/${id} not found` });
  }
  // The read discloses the sender's document to the reader: the sender is the original one, not the gateway.
  const audit = {
    messageKind: found.kind,
    messageId: found.messageId,
    sender: found.sender,
    recipient: client.organization,
    purpose: TREATMENT,
    patientCpr: found.patientCpr ?? undefined,
    dataClasses: [found.kind],
  };
  const guard = deps.guard ?? deps.notifier?.guard;
  if (found.copy && client.role !== 'admin') {
    if (!guard || !found.patientCpr) {
      throw errors.notFound({ diagnostics: `Bundle/${id} not found` });
    }
    const cpr = found.patientCpr;
    const decision = await guard.decide(
      deps.db,
      cpr,
      focusDisclosure(topicOfKind(found.kind), found.kind, client.organization),
    );
    if (!decision.permit) {
      throw await refuseDisclosure(
        deps.db,
        {
          ...audit,
          reason: `read by ${client.id} (GET /fhir/Bundle, listed practice's copy) refused: ${decision.reason}`,
        },
        decision,
        decision.consent
          ? `id: the patient has denied this disclosure to ${client.organization.value}`
          : `id: ${decision.reason}`,
      );
    }
    await deps.db.transaction((tx) =>
      recordAudit(tx, {
        ...audit,
        action: 'delivered',
        consent: decision.consent,
        reason: `read by ${client.id} (GET /fhir/Bundle, listed practice's copy)`,
      }),
    );
    return found.bundle;
  }
  await deps.db.transaction((tx) =>
    recordAudit(tx, { ...audit, action: 'read', reason: `read by ${client.id} (GET /fhir/Bundle)` }),
  );
  return found.bundle;
}
