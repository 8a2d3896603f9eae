import type { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import swaggerUi from 'swagger-ui-express';
import { authenticate } from './auth/authenticate';
import { createOperatorSessions } from './auth/operator-session';
import type { ClientRegistry } from './auth/clients';
import type { Config } from './config';
import type { PatientRegistry } from './directory/registry';
import { errors } from './errors';
import { accessLog } from './http/access-log';
import { refuseControlCharacters } from './http/control-characters';
import { createAuthFailures } from './limits/auth-failures';
import { bodyLimits } from './limits/body-limits';
import { clientRateLimit } from './limits/client-rate-limit';
import { contentSecurityPolicy } from './limits/content-security-policy';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { requestId } from './http/request-id';
import type { Logger } from './observability/logger';
import type { Metrics } from './observability/metrics';
import { acknowledgementRoutes } from './routes/acknowledgements';
import { capabilityRoutes } from './routes/capability';
import { consoleForms, consoleRoutes } from './routes/console';
import { consentRoutes } from './routes/consents';
import { disclosureAssetRoutes, disclosureRoutes } from './routes/disclosures';
import type { DisclosureGuard } from './consent/disclosure-guard';
import { directoryReadRoutes, directoryRoutes } from './routes/directory';
import { documentRoutes } from './routes/documents';
import { deadLetterRoutes } from './routes/dead-letters';
import { messageRoutes } from './routes/messages';
import { operationsRoutes } from './routes/operations';
import { queueDashboard } from './routes/queue-dashboard';
import type { Db } from './store/db';
import type { FhirValidator } from './validation/fhir-validator';
import type { IntakeDeps } from './intake/submit-document';
import type { LookupCache } from './cache/lookup-cache';
import { openApiDocument, openApiYaml } from './validation/request-schemas';
import { statusReportRoutes } from './routes/status-reports';
import { sickLeaveRoutes } from './routes/sick-leave-certificates';
import { subscriptionRoutes } from './routes/subscriptions';
import { careTeamRoutes } from './routes/care-team';
import { symptomReportRoutes } from './routes/symptom-reports';
import { planningMeetingRoutes } from './routes/planning-meetings';
import type { MeetingDeps } from './planning-meetings/meeting-service';
import type { Notifier } from './subscriptions/notifier';
import type { StatusReportDeps } from './status-report/status-report-service';
import type { OutboundPolicy } from './outbound/address-policy';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Db;
  redis: Redis;
  clients: ClientRegistry;
  validator: FhirValidator;
  guard: DisclosureGuard;
  queues: Queue[];
  registry?: PatientRegistry | undefined;
  /** Starts delivery of newly stored work (wakes the outbox relay). */
  /** Requeued work: wake the outbox relay. */
  wakeRelay: () => void;
  /** Messages stored: wake the relay, and the notifier when they made subscription events. */
  onAccepted: (subscriptionEvents?: number) => void;
  /** True once SIGTERM arrived: intake answers 503 while in-flight work finishes. */
  isShuttingDown: () => boolean;
  statusReports: StatusReportDeps;
  /** Planning meetings before discharge (with their reminder scheduler). */
  planningMeetings: MeetingDeps;
  notifier: Notifier | undefined;
  /** Where endpoints loaded into the directory may point (src/outbound). */
  outbound: OutboundPolicy;
  /** Directory and consent lookups cached across decisions (src/cache); absent means every lookup queries. */
  lookups?: LookupCache | undefined;
}

/** What the intake pipeline needs, shared by the HTTP routes and the MLLP listener. */
export function buildIntakeDeps(deps: AppDeps): IntakeDeps {
  return {
    db: deps.db,
    logger: deps.logger,
    metrics: deps.metrics,
    validator: deps.validator,
    registry: deps.registry,
    guard: deps.guard,
    onAccepted: deps.onAccepted,
    gatewayEndpoint: `${deps.config.publicBaseUrl}/fhir`,
    validateOutput: deps.config.validateOutput,
    hl7DefaultCharset: deps.config.hl7DefaultCharset,
    lookups: deps.lookups,
  };
}

/** Builds the Express app without listening, so tests drive it with supertest. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestId());
  app.use(accessLog(deps.logger));
  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy } }));
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use(operationsRoutes({ ...deps, metricsToken: deps.config.metricsToken }));
  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiYaml());
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    // "Try it out" calls this gateway where it really is (PUBLIC_BASE_URL, else localhost:PORT).
    swaggerUi.setup(
      { ...openApiDocument(), servers: [{ url: deps.config.publicBaseUrl, description: 'This gateway' }] },
      {
        customSiteTitle: 'Sektorbro API',
        // No badge from the public validator: the page fetches nothing from a third party.
        swaggerOptions: { validatorUrl: null },
      },
    ),
  );
  app.use(capabilityRoutes(deps.config));
  app.use(disclosureAssetRoutes());

  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (deps.isShuttingDown() && req.method !== 'GET') {
      next(
        errors.unavailable({
          diagnostics: 'the gateway is shutting down; send again to another instance or in a moment',
        }),
      );
      return;
    }
    next();
  });
  // Rate and failure counters live in Redis beside the queues, under the same prefix.
  const failures = createAuthFailures(deps.redis, deps.config.limits, deps.config.queuePrefix);
  const rateLimit = clientRateLimit(deps.redis, deps.config.limits, deps.config.queuePrefix, deps.logger);
  const sessions = createOperatorSessions({
    redis: deps.redis,
    keyPrefix: deps.config.queuePrefix,
    clients: deps.clients,
    failures,
    ttlS: deps.config.operatorSessionTtlS,
    publicBaseUrl: deps.config.publicBaseUrl,
  });
  app.use(sessions.routes());
  // The console's forms are read before the session check, which takes their CSRF token from the body.
  app.use('/console', consoleForms());
  app.use(sessions.middleware());
  const bearer = authenticate(deps.clients, failures);
  // A browser without a session is sent to the login page; API clients use their bearer key as anywhere else.
  app.use(
    '/admin/queues',
    async (req: Request, res: Response, next: NextFunction) => {
      if (req.get('authorization')) {
        await bearer(req, res, next);
      } else {
        next();
      }
    },
    sessions.requireOperator(),
    rateLimit,
    ...queueDashboard(deps.queues, '/admin/queues'),
  );
  // The operator console: the same sign-in as the queue dashboard (a session, or an admin's bearer key).
  app.use(
    '/console',
    async (req: Request, res: Response, next: NextFunction) => {
      if (req.get('authorization')) {
        await bearer(req, res, next);
      } else {
        next();
      }
    },
    sessions.requireOperator(),
    rateLimit,
  );
  app.use(
    consoleRoutes({
      db: deps.db,
      queues: deps.queues,
      onRequeued: deps.wakeRelay,
      fhirBase: `${deps.config.publicBaseUrl}/fhir`,
    }),
  );
  app.use(bearer);
  app.use(rateLimit);
  app.use(bodyLimits(deps.config.limits, deps.config.maxBodyBytes));
  app.use(refuseControlCharacters());
  const intake = buildIntakeDeps(deps);
  app.use(documentRoutes(intake));
  app.use(messageRoutes(deps.db, `${deps.config.publicBaseUrl}/fhir`));
  app.use(deadLetterRoutes({ db: deps.db, onRequeued: deps.wakeRelay }));
  app.use(
    acknowledgementRoutes({
      db: deps.db,
      metrics: deps.metrics,
      onRequeued: deps.wakeRelay,
      gatewayEndpoint: `${deps.config.publicBaseUrl}/fhir`,
      validator: deps.validator,
    }),
  );
  app.use(
    consentRoutes(
      { db: deps.db, validator: deps.validator, policy: deps.guard.policy },
      `${deps.config.publicBaseUrl}/fhir`,
    ),
  );
  app.use(disclosureRoutes(deps.db));
  app.use(statusReportRoutes(deps.statusReports, `${deps.config.publicBaseUrl}/fhir`));
  app.use(
    subscriptionRoutes({
      db: deps.db,
      notifier: deps.notifier,
      baseUrl: `${deps.config.publicBaseUrl}/fhir`,
      guard: deps.guard,
      validator: deps.validator,
    }),
  );
  app.use(
    sickLeaveRoutes({
      db: deps.db,
      guard: deps.guard,
      validator: deps.validator,
      logger: deps.logger,
      gatewayEndpoint: intake.gatewayEndpoint,
      onAccepted: deps.onAccepted,
    }),
  );
  app.use(careTeamRoutes({ db: deps.db, validator: deps.validator, guard: deps.guard }));
  app.use(
    symptomReportRoutes({
      db: deps.db,
      guard: deps.guard,
      logger: deps.logger,
      gatewayEndpoint: intake.gatewayEndpoint,
      onAccepted: () => {
        deps.onAccepted(1);
      },
    }),
  );
  app.use(planningMeetingRoutes(deps.planningMeetings));
  app.use(directoryRoutes(deps.db, deps.outbound, deps.validator));
  return finishApp(app, deps);
}

/**
 * The end of every app, after all specific routes: the directory's generic FHIR reads (GET /fhir/:type and
 * /fhir/:type/:id, admin only), then 404 and the error handler. The generic reads are mounted here and
 * nowhere else, and createApp returns through this function, so no FHIR read route can be mounted after
 * them and be shadowed.
 */
function finishApp(app: Express, deps: AppDeps): Express {
  app.use(directoryReadRoutes(deps.db));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
