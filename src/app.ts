import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import swaggerUi from 'swagger-ui-express';
import { authenticate, requireRole } from './auth/authenticate';
import type { ClientRegistry } from './auth/clients';
import type { Config } from './config';
import type { PatientRegistry } from './directory/registry';
import { errors } from './errors';
import { accessLog } from './http/access-log';
import { hl7Body, jsonBody } from './http/body';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { requestId } from './http/request-id';
import type { Logger } from './observability/logger';
import type { Metrics } from './observability/metrics';
import { acknowledgementRoutes } from './routes/acknowledgements';
import { capabilityRoutes } from './routes/capability';
import { consentRoutes } from './routes/consents';
import { disclosureRoutes } from './routes/disclosures';
import type { DisclosureGuard } from './consent/disclosure-guard';
import { directoryRoutes } from './routes/directory';
import { documentRoutes } from './routes/documents';
import { deadLetterRoutes } from './routes/dead-letters';
import { messageRoutes } from './routes/messages';
import { operationsRoutes } from './routes/operations';
import type { Db } from './store/db';
import type { FhirValidator } from './validation/fhir-validator';
import type { IntakeDeps } from './intake/submit-document';
import { openApiDocument, openApiYaml } from './validation/request-schemas';
import { statusReportRoutes } from './routes/status-reports';
import { sickLeaveRoutes } from './routes/sick-leave-certificates';
import { subscriptionRoutes } from './routes/subscriptions';
import type { Notifier } from './subscriptions/notifier';
import type { StatusReportDeps } from './status-report/status-report-service';

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
  notifier: Notifier | undefined;
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
  };
}

/** Builds the Express app without listening, so tests drive it with supertest. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestId());
  app.use(accessLog(deps.logger));
  app.use(helmet({ contentSecurityPolicy: false }));
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use(operationsRoutes(deps));
  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiYaml());
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApiDocument() as swaggerUi.JsonObject, { customSiteTitle: 'Sektorbro API' }));
  app.use(capabilityRoutes(deps.config));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (deps.isShuttingDown() && req.method !== 'GET') {
      next(errors.unavailable('the gateway is shutting down; send again to another instance or in a moment'));
      return;
    }
    next();
  });
  app.use(authenticate(deps.clients));

  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({ queues: deps.queues.map((q) => new BullMQAdapter(q)), serverAdapter: board });
  app.use('/admin/queues', requireRole('admin'), board.getRouter() as express.Router);

  app.use(jsonBody(deps.config.maxBodyBytes));
  app.use(hl7Body(deps.config.maxBodyBytes));
  const intake = buildIntakeDeps(deps);
  app.use(documentRoutes(intake));
  app.use(messageRoutes(deps.db));
  app.use(deadLetterRoutes({ db: deps.db, onRequeued: deps.wakeRelay }));
  app.use(acknowledgementRoutes({ db: deps.db, metrics: deps.metrics, onRequeued: deps.wakeRelay }));
  app.use(consentRoutes({ db: deps.db, validator: deps.validator }));
  app.use(disclosureRoutes(deps.db));
  // Before the directory's generic /fhir/:type routes, which only admins may use.
  app.use(statusReportRoutes(deps.statusReports, `${deps.config.publicBaseUrl}/fhir`));
  app.use(subscriptionRoutes({ db: deps.db, notifier: deps.notifier, baseUrl: `${deps.config.publicBaseUrl}/fhir` }));
  app.use(
    sickLeaveRoutes({ db: deps.db, guard: deps.guard, validator: deps.validator, logger: deps.logger, gatewayEndpoint: intake.gatewayEndpoint, onAccepted: deps.onAccepted }),
  );
  app.use(directoryRoutes(deps.db));

  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
