import Ajv from 'ajv';
import { outboundPolicy } from './outbound/address-policy';
import { charsetFromSetting } from './hl7v2/charset';

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
    /** MedCom reliable messaging: resend after this long without an acknowledgement (MedCom: about 30 minutes). */
    readonly medcomResendAfterMs: number;
    /** MedCom reliable messaging: at most this many resends (MedCom: 2), then a dead letter. */
    readonly medcomMaxResends: number;
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
  /**
   * Who may send over MLLP: "APP" or "APP|FACILITY" (MSH-3, MSH-4) mapped to a gateway client id, optionally
   * with the sender's default character set (for messages without a usable MSH-18) and department SOR code
   * (for messages whose MSH-4 and PV1-3 carry none): `APP|FACILITY=client;charset=8859/1;sor=265161000016004`.
   */
  readonly mllpSenders: ReadonlyArray<{
    application: string;
    facility: string | undefined;
    clientId: string;
    charset?: string | undefined;
    sor?: string | undefined;
  }>;
  /** The character set of HL7 v2 messages without a usable MSH-18 when their sender has none configured. */
  readonly hl7DefaultCharset: string;
  /** Whether this process runs the relay and delivery workers (false for an intake-only replica). */
  readonly runWorkers: boolean;
  /**
   * Directory and consent lookups kept in the process, per domain (LRU); 0 turns the cache off. Invalidated
   * across processes through PostgreSQL NOTIFY and a version fence per decision (src/cache/lookup-cache.ts).
   */
  readonly lookupCacheEntries: number;
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
  /** Where requests on someone else's behalf (rest-hooks, directory endpoints) may go (src/outbound). */
  readonly outbound: {
    /** Loopback, private, CGNAT and unique-local addresses may be reached (on by default outside production). */
    readonly allowPrivate: boolean;
    /** True when allowPrivate was not set but taken from NODE_ENV: start-up says so loudly. */
    readonly allowPrivateByDefault: boolean;
    /** CIDR ranges, addresses and host names reached whatever their address class. */
    readonly allow: readonly string[];
  };
  readonly statusReports: {
    /** How long before a status-report deadline the physician is reminded. */
    readonly remindBeforeMs: number;
    /** How often scheduled reminders are checked against Redis (re-added if Redis lost them). */
    readonly reminderReconcileMs: number;
  };
  /** Protection against overload and guessing: request rates, failed logins, body sizes, slow clients. */
  readonly limits: Limits;
  /** Bearer token that /metrics requires; undefined leaves /metrics open (only outside production). */
  readonly metricsToken: string | undefined;
  /** How long an operator's browser session lasts without use, in seconds. */
  readonly operatorSessionTtlS: number;
}

export interface Limits {
  /** Requests one client may make per window (all replicas together: counted in Redis). */
  readonly requestsPerWindow: number;
  readonly requestWindowS: number;
  /** Failed authentications per source address that are answered at once; after these, each is answered later. */
  readonly authFailuresFree: number;
  /** Failed authentications per source address within the window after which the address gets 429. */
  readonly authFailuresBlock: number;
  readonly authFailureWindowS: number;
  /** Bytes of a document body (discharge letters, clinical documents, HL7 v2, certificates). */
  readonly documentBodyBytes: number;
  /** Bytes of a `$convert` body: a dry run needs the document without its attachments. */
  readonly convertBodyBytes: number;
  /** Bytes of the small JSON bodies (consents, requests, subscriptions, acknowledgements, operator actions). */
  readonly smallBodyBytes: number;
  /** Values (objects, array items, primitives) a JSON body may hold: bounds the CPU one validation takes. */
  readonly jsonValues: number;
  /** How long a client may take to send its request headers, and its whole request. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections per process (more are refused) and per source address. */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
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
  MEDCOM_RESEND_AFTER_MS: number;
  MEDCOM_MAX_RESENDS: number;
  WORKER_CONCURRENCY: number;
  QUEUE_PREFIX: string;
  RUN_WORKERS: boolean;
  LOOKUP_CACHE_ENTRIES: number;
  VALIDATE_OUTPUT: Config['validateOutput'];
  MLLP_PORT?: number;
  MLLP_SENDERS?: string;
  HL7_DEFAULT_CHARSET: string;
  STATUS_REPORT_REMIND_BEFORE_MS: number;
  REMINDER_RECONCILE_MS: number;
  SUBSCRIPTION_ATTEMPTS: number;
  SUBSCRIPTION_BACKOFF_MS: number;
  SUBSCRIPTION_TIMEOUT_MS: number;
  SUBSCRIPTION_POLL_MS: number;
  SUBSCRIPTION_ALLOW_HTTP?: boolean;
  OUTBOUND_ALLOW_PRIVATE?: boolean;
  OUTBOUND_ALLOW?: string;
  RATE_LIMIT_REQUESTS: number;
  RATE_LIMIT_WINDOW_S: number;
  AUTH_FAILURES_FREE: number;
  AUTH_FAILURES_BLOCK: number;
  AUTH_FAILURE_WINDOW_S: number;
  MAX_DOCUMENT_BYTES: number;
  MAX_CONVERT_BYTES: number;
  MAX_SMALL_BODY_BYTES: number;
  MAX_JSON_VALUES: number;
  HEADERS_TIMEOUT_MS: number;
  REQUEST_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  MAX_CONNECTIONS: number;
  MAX_CONNECTIONS_PER_ADDRESS: number;
  METRICS_TOKEN?: string;
  OPERATOR_SESSION_TTL_S: number;
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
    MEDCOM_RESEND_AFTER_MS: { type: 'integer', minimum: 1, maximum: 86400000, default: 1800000 },
    MEDCOM_MAX_RESENDS: { type: 'integer', minimum: 0, maximum: 2, default: 2 },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 1000, default: 32 },
    QUEUE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$', default: 'sektorbro' },
    RUN_WORKERS: { type: 'boolean', default: true },
    LOOKUP_CACHE_ENTRIES: { type: 'integer', minimum: 0, maximum: 10000000, default: 10000 },
    VALIDATE_OUTPUT: { enum: ['fhir-input', 'always', 'never'], default: 'fhir-input' },
    MLLP_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    STATUS_REPORT_REMIND_BEFORE_MS: { type: 'integer', minimum: 0, maximum: 31536000000, default: 172800000 },
    REMINDER_RECONCILE_MS: { type: 'integer', minimum: 100, maximum: 86400000, default: 60000 },
    SUBSCRIPTION_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 100, default: 6 },
    SUBSCRIPTION_BACKOFF_MS: { type: 'integer', minimum: 1, maximum: 3600000, default: 2000 },
    SUBSCRIPTION_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
    SUBSCRIPTION_POLL_MS: { type: 'integer', minimum: 10, maximum: 600000, default: 1000 },
    SUBSCRIPTION_ALLOW_HTTP: { type: 'boolean' },
    OUTBOUND_ALLOW_PRIVATE: { type: 'boolean' },
    OUTBOUND_ALLOW: { type: 'string', pattern: '^[^\\s,]+(,[^\\s,]+)*$' },
    // APP[|FACILITY]=client[;charset=X][;sor=N], comma-separated; a facility may be a name with spaces.
    RATE_LIMIT_REQUESTS: { type: 'integer', minimum: 1, maximum: 100000000, default: 6000 },
    RATE_LIMIT_WINDOW_S: { type: 'integer', minimum: 1, maximum: 86400, default: 60 },
    AUTH_FAILURES_FREE: { type: 'integer', minimum: 0, maximum: 10000000, default: 5 },
    AUTH_FAILURES_BLOCK: { type: 'integer', minimum: 1, maximum: 10000000, default: 30 },
    AUTH_FAILURE_WINDOW_S: { type: 'integer', minimum: 1, maximum: 86400, default: 900 },
    MAX_DOCUMENT_BYTES: { type: 'integer', minimum: 1024, maximum: 104857600, default: 10485760 },
    MAX_CONVERT_BYTES: { type: 'integer', minimum: 1024, maximum: 104857600, default: 2097152 },
    MAX_SMALL_BODY_BYTES: { type: 'integer', minimum: 1024, maximum: 104857600, default: 262144 },
    MAX_JSON_VALUES: { type: 'integer', minimum: 100, maximum: 100000000, default: 50000 },
    HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 30000 },
    KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 5000 },
    MAX_CONNECTIONS: { type: 'integer', minimum: 1, maximum: 1000000, default: 1000 },
    MAX_CONNECTIONS_PER_ADDRESS: { type: 'integer', minimum: 1, maximum: 1000000, default: 100 },
    METRICS_TOKEN: { type: 'string', minLength: 16, pattern: '^[!-~]+$' },
    OPERATOR_SESSION_TTL_S: { type: 'integer', minimum: 60, maximum: 86400, default: 1800 },
    MLLP_SENDERS: {
      type: 'string',
      pattern:
        '^[^=,|\\s]+(\\|[^=,|;\\s]([^=,|;]*[^=,|;\\s])?)?=[A-Za-z0-9._-]+(;(charset|sor)=[^=,;]+)*(,[^=,|\\s]+(\\|[^=,|;\\s]([^=,|;]*[^=,|;\\s])?)?=[A-Za-z0-9._-]+(;(charset|sor)=[^=,;]+)*)*$',
    },
    HL7_DEFAULT_CHARSET: { type: 'string', minLength: 1, default: 'UNICODE UTF-8' },
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
  const mllpSenders = (raw.MLLP_SENDERS ?? '')
    .split(',')
    .filter(Boolean)
    .map((rule) => {
      const [main = '', ...options] = rule.split(';');
      const [sender = '', clientId = ''] = main.split('=');
      const [application = '', facility] = sender.split('|');
      const option = (name: string) =>
        options
          .find((o) => o.startsWith(`${name}=`))
          ?.slice(name.length + 1)
          .trim() || undefined;
      return { application, facility, clientId, charset: option('charset'), sor: option('sor') };
    });
  const charsetProblems = [
    ...(charsetFromSetting(raw.HL7_DEFAULT_CHARSET)
      ? []
      : [
          `HL7_DEFAULT_CHARSET: not a character set the gateway decodes (got ${JSON.stringify(raw.HL7_DEFAULT_CHARSET)})`,
        ]),
    ...mllpSenders
      .filter((s) => s.charset !== undefined && !charsetFromSetting(s.charset))
      .map(
        (s) =>
          `MLLP_SENDERS: charset of ${s.application} is not a character set the gateway decodes (got ${JSON.stringify(s.charset)})`,
      ),
    ...mllpSenders
      .filter((s) => s.sor !== undefined && !/^[0-9]{6,18}$/.test(s.sor))
      .map((s) => `MLLP_SENDERS: sor of ${s.application} must be a SOR code (digits) (got ${JSON.stringify(s.sor)})`),
  ];
  if (charsetProblems.length > 0) {
    throw new ConfigError(charsetProblems);
  }
  const port = raw.PORT;
  const publicBaseUrl = raw.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? `http://localhost:${port}`;
  const outboundAllow = (raw.OUTBOUND_ALLOW ?? '').split(',').filter(Boolean);
  try {
    outboundPolicy({ allowPrivate: false, allow: outboundAllow, publicBaseUrl, port });
  } catch (e) {
    throw new ConfigError([`OUTBOUND_ALLOW: ${(e as Error).message}`]);
  }
  return Object.freeze({
    port,
    publicBaseUrl,
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
      medcomResendAfterMs: raw.MEDCOM_RESEND_AFTER_MS,
      medcomMaxResends: raw.MEDCOM_MAX_RESENDS,
    }),
    queuePrefix: raw.QUEUE_PREFIX,
    runWorkers: raw.RUN_WORKERS,
    lookupCacheEntries: raw.LOOKUP_CACHE_ENTRIES,
    validateOutput: raw.VALIDATE_OUTPUT,
    mllpPort: raw.MLLP_PORT,
    mllpSenders,
    hl7DefaultCharset: raw.HL7_DEFAULT_CHARSET,
    subscriptions: Object.freeze({
      attempts: raw.SUBSCRIPTION_ATTEMPTS,
      backoffMs: raw.SUBSCRIPTION_BACKOFF_MS,
      timeoutMs: raw.SUBSCRIPTION_TIMEOUT_MS,
      pollMs: raw.SUBSCRIPTION_POLL_MS,
      allowHttp: raw.SUBSCRIPTION_ALLOW_HTTP ?? raw.NODE_ENV !== 'production',
    }),
    outbound: Object.freeze({
      allowPrivate: raw.OUTBOUND_ALLOW_PRIVATE ?? raw.NODE_ENV !== 'production',
      allowPrivateByDefault: raw.OUTBOUND_ALLOW_PRIVATE === undefined && raw.NODE_ENV !== 'production',
      allow: Object.freeze(outboundAllow),
    }),
    statusReports: Object.freeze({
      remindBeforeMs: raw.STATUS_REPORT_REMIND_BEFORE_MS,
      reminderReconcileMs: raw.REMINDER_RECONCILE_MS,
    }),
    limits: Object.freeze({
      requestsPerWindow: raw.RATE_LIMIT_REQUESTS,
      requestWindowS: raw.RATE_LIMIT_WINDOW_S,
      authFailuresFree: raw.AUTH_FAILURES_FREE,
      authFailuresBlock: Math.max(raw.AUTH_FAILURES_BLOCK, raw.AUTH_FAILURES_FREE + 1),
      authFailureWindowS: raw.AUTH_FAILURE_WINDOW_S,
      // No route takes more than the overall MAX_BODY_BYTES.
      documentBodyBytes: Math.min(raw.MAX_DOCUMENT_BYTES, raw.MAX_BODY_BYTES),
      convertBodyBytes: Math.min(raw.MAX_CONVERT_BYTES, raw.MAX_BODY_BYTES),
      smallBodyBytes: Math.min(raw.MAX_SMALL_BODY_BYTES, raw.MAX_BODY_BYTES),
      jsonValues: raw.MAX_JSON_VALUES,
      headersTimeoutMs: raw.HEADERS_TIMEOUT_MS,
      // Node requires requestTimeout >= headersTimeout.
      requestTimeoutMs: Math.max(raw.REQUEST_TIMEOUT_MS, raw.HEADERS_TIMEOUT_MS),
      keepAliveTimeoutMs: raw.KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: raw.MAX_CONNECTIONS,
      maxConnectionsPerAddress: raw.MAX_CONNECTIONS_PER_ADDRESS,
    }),
    metricsToken: raw.METRICS_TOKEN,
    operatorSessionTtlS: raw.OPERATOR_SESSION_TTL_S,
  });
}
