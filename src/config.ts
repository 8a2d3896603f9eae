import Ajv from 'ajv';

/**
 * Configuration from environment variables, checked once at start. A bad value stops start-up with a
 * message naming the variable (fail fast), and the typed result is passed explicitly to whoever needs it.
 */
export interface Config {
  readonly port: number;
  /** Where the gateway can be reached by recipients: MessageHeader.source.endpoint is built from it. */
  readonly publicBaseUrl: string;
  readonly redisUrl: string;
  /** postgres:// URL; undefined means an embedded PGlite database in dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly clientsFile: string | undefined;
  readonly directoryFile: string | undefined;
  readonly registryFhirUrl: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly production: boolean;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  readonly delivery: {
    /** Attempts per delivery before it becomes a dead letter. */
    readonly attempts: number;
    /** First retry delay; later ones grow exponentially, with jitter. */
    readonly backoffMs: number;
    /** How long one HTTP delivery may take before it counts as a transient failure. */
    readonly timeoutMs: number;
    readonly concurrency: number;
  };
  /** Prefix of every Redis key the gateway's queues use, so several gateways (or test runs) can share a Redis. */
  readonly queuePrefix: string;
  /**
   * Which outgoing messages are validated against the profiles at run time: those built from senders' FHIR
   * (whose content the gateway does not control), all, or none. Native input is mapped by code whose output
   * the test suite validates, and validation costs ~70 ms of CPU per letter.
   */
  readonly validateOutput: 'fhir-input' | 'always' | 'never';
  /** TCP port of the MLLP listener; undefined turns it off. */
  readonly mllpPort: number | undefined;
  /** Who may send over MLLP: "APP" or "APP|FACILITY" (MSH-3, MSH-4) mapped to a gateway client id. */
  readonly mllpSenders: ReadonlyArray<{ application: string; facility: string | undefined; clientId: string }>;
  /** Whether this process runs the relay and delivery workers (false for an intake-only replica). */
  readonly runWorkers: boolean;
  readonly subscriptions: {
    /** Attempts per notification before the subscription turns error. */
    readonly attempts: number;
    readonly backoffMs: number;
    readonly timeoutMs: number;
    /** How often the database is asked for notifications and heartbeats to queue. */
    readonly pollMs: number;
    /** Whether rest-hooks may be plain http (they carry clinical content): by default only outside production. */
    readonly allowHttp: boolean;
  };
  readonly statusReports: {
    /** How long before a status-report deadline the physician is reminded. */
    readonly remindBeforeMs: number;
    /** How often scheduled reminders are checked against Redis (re-added if Redis lost them). */
    readonly reminderReconcileMs: number;
  };
}

interface RawEnv {
  PORT: number;
  PUBLIC_BASE_URL?: string;
  REDIS_URL: string;
  DATABASE_URL?: string;
  DATA_DIR: string;
  GATEWAY_CLIENTS_FILE?: string;
  DIRECTORY_FILE?: string;
  REGISTRY_FHIR_URL?: string;
  LOG_LEVEL: Config['logLevel'];
  NODE_ENV?: string;
  MAX_BODY_BYTES: number;
  DELIVERY_ATTEMPTS: number;
  DELIVERY_BACKOFF_MS: number;
  DELIVERY_TIMEOUT_MS: number;
  WORKER_CONCURRENCY: number;
  QUEUE_PREFIX: string;
  RUN_WORKERS: boolean;
  VALIDATE_OUTPUT: Config['validateOutput'];
  MLLP_PORT?: number;
  MLLP_SENDERS?: string;
  STATUS_REPORT_REMIND_BEFORE_MS: number;
  REMINDER_RECONCILE_MS: number;
  SUBSCRIPTION_ATTEMPTS: number;
  SUBSCRIPTION_BACKOFF_MS: number;
  SUBSCRIPTION_TIMEOUT_MS: number;
  SUBSCRIPTION_POLL_MS: number;
  SUBSCRIPTION_ALLOW_HTTP?: boolean;
}

const schema = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    PUBLIC_BASE_URL: { type: 'string', pattern: '^https?://[^\\s]+$' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://[^\\s]+$', default: 'redis://127.0.0.1:6379' },
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://[^\\s]+$' },
    DATA_DIR: { type: 'string', minLength: 1, default: './data' },
    GATEWAY_CLIENTS_FILE: { type: 'string', minLength: 1 },
    DIRECTORY_FILE: { type: 'string', minLength: 1 },
    REGISTRY_FHIR_URL: { type: 'string', pattern: '^https?://[^\\s]+$' },
    LOG_LEVEL: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    NODE_ENV: { type: 'string' },
    MAX_BODY_BYTES: { type: 'integer', minimum: 1024, maximum: 104857600, default: 26214400 },
    DELIVERY_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 100, default: 8 },
    DELIVERY_BACKOFF_MS: { type: 'integer', minimum: 1, maximum: 3600000, default: 2000 },
    DELIVERY_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 15000 },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1000, default: 32 },
    QUEUE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$', default: 'sektorbro' },
    RUN_WORKERS: { type: 'boolean', default: true },
    VALIDATE_OUTPUT: { enum: ['fhir-input', 'always', 'never'], default: 'fhir-input' },
    MLLP_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    STATUS_REPORT_REMIND_BEFORE_MS: { type: 'integer', minimum: 0, maximum: 31536000000, default: 172800000 },
    REMINDER_RECONCILE_MS: { type: 'integer', minimum: 100, maximum: 86400000, default: 60000 },
    SUBSCRIPTION_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 100, default: 6 },
    SUBSCRIPTION_BACKOFF_MS: { type: 'integer', minimum: 1, maximum: 3600000, default: 2000 },
    SUBSCRIPTION_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
    SUBSCRIPTION_POLL_MS: { type: 'integer', minimum: 10, maximum: 600000, default: 1000 },
    SUBSCRIPTION_ALLOW_HTTP: { type: 'boolean' },
    MLLP_SENDERS: { type: 'string', pattern: '^[^=,|\\s]+(\\|[^=,|\\s]+)?=[A-Za-z0-9._-]+(,[^=,|\\s]+(\\|[^=,|\\s]+)?=[A-Za-z0-9._-]+)*$' },
  },
  required: ['PORT', 'REDIS_URL', 'DATA_DIR', 'LOG_LEVEL'],
} as const;

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });
const validate = ajv.compile<RawEnv>(schema);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and checks the configuration. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const known = Object.keys(schema.properties);
  const raw: Record<string, unknown> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') {
      raw[key] = value;
    }
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => {
      const name = e.instancePath.replace(/^\//, '') || String(e.params.missingProperty ?? '');
      return `${name}: ${e.message ?? 'is invalid'} (got ${JSON.stringify(raw[name])})`;
    });
    throw new ConfigError(problems);
  }
  const port = raw.PORT;
  return Object.freeze({
    port,
    publicBaseUrl: (raw.PUBLIC_BASE_URL)?.replace(/\/$/, '') ?? `http://localhost:${port}`,
    redisUrl: raw.REDIS_URL,
    databaseUrl: raw.DATABASE_URL,
    dataDir: raw.DATA_DIR,
    clientsFile: raw.GATEWAY_CLIENTS_FILE,
    directoryFile: raw.DIRECTORY_FILE,
    registryFhirUrl: raw.REGISTRY_FHIR_URL,
    logLevel: raw.LOG_LEVEL,
    production: raw.NODE_ENV === 'production',
    maxBodyBytes: raw.MAX_BODY_BYTES,
    delivery: Object.freeze({
      attempts: raw.DELIVERY_ATTEMPTS,
      backoffMs: raw.DELIVERY_BACKOFF_MS,
      timeoutMs: raw.DELIVERY_TIMEOUT_MS,
      concurrency: raw.WORKER_CONCURRENCY,
    }),
    queuePrefix: raw.QUEUE_PREFIX,
    runWorkers: raw.RUN_WORKERS,
    validateOutput: raw.VALIDATE_OUTPUT,
    mllpPort: raw.MLLP_PORT,
    mllpSenders: (raw.MLLP_SENDERS ?? '')
      .split(',')
      .filter(Boolean)
      .map((rule) => {
        const [sender = '', clientId = ''] = rule.split('=');
        const [application = '', facility] = sender.split('|');
        return { application, facility, clientId };
      }),
    subscriptions: Object.freeze({
      attempts: raw.SUBSCRIPTION_ATTEMPTS,
      backoffMs: raw.SUBSCRIPTION_BACKOFF_MS,
      timeoutMs: raw.SUBSCRIPTION_TIMEOUT_MS,
      pollMs: raw.SUBSCRIPTION_POLL_MS,
      allowHttp: raw.SUBSCRIPTION_ALLOW_HTTP ?? raw.NODE_ENV !== 'production',
    }),
    statusReports: Object.freeze({ remindBeforeMs: raw.STATUS_REPORT_REMIND_BEFORE_MS, reminderReconcileMs: raw.REMINDER_RECONCILE_MS }),
  });
}
