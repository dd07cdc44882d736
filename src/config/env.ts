import { z } from 'zod';
import { DEFAULT_HTTP_LIMITS, type HttpServerLimits } from '../adapters/http/http-server.js';
import { logLevels } from '../log/logger.js';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from '../sources/event-time-bounds.js';
import type { LogLevel } from '../log/logger.js';

export const kafkaSaslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

export interface EnvConfig {
  readonly kafka: {
    /** Bootstrap `host:port` list; undefined when unset (only `demo` may then start its embedded broker). */
    readonly brokers: readonly string[] | undefined;
    readonly clientId: string;
    readonly ssl: boolean;
    readonly sasl: KafkaSasl | undefined;
    readonly topicPrefix: string;
    /**
     * KAFKA_IDEMPOTENT: the connectors', dead-letter, processor, replay and flusher producers are idempotent. False
     * only for a broker that cannot hand kafkajs a producer id (librdkafka's mock cluster is one).
     */
    readonly idempotent: boolean;
  };
  /** Undefined when SCHEMA_REGISTRY_URL is unset: records travel as JSON validated by the same schemas. */
  readonly schemaRegistry:
    { readonly url: string; readonly username: string | undefined; readonly password: string | undefined } | undefined;
  readonly stripe: {
    readonly apiKey: string | undefined;
    /** Every accepted signing secret; more than one while a secret is being rotated. */
    readonly webhookSecrets: readonly string[];
    /** STRIPE_API_URL: where the Stripe API is (stripe-mock, a test double); undefined → api.stripe.com. */
    readonly apiUrl: string | undefined;
    /** STRIPE_BACKFILL_RATE: backfill requests per second; undefined → the backfill default (25). */
    readonly backfillRatePerSecond: number | undefined;
  };
  readonly segment: {
    /** SEGMENT_SHARED_SECRET: every accepted webhook secret; more than one while it is being rotated; empty → unset. */
    readonly sharedSecrets: readonly string[];
    /** SEGMENT_WEBHOOK_BATCH_TOKEN: every accepted batch token (X-Persona-Stream-Token); empty → batches are refused. */
    readonly webhookBatchTokens: readonly string[];
    readonly writeKeys: readonly string[];
    readonly token: string | undefined;
    readonly spaceId: string | undefined;
    /** SEGMENT_PROFILE_API_URL without a trailing slash; undefined → https://profiles.segment.com. */
    readonly profileApiUrl: string | undefined;
    /** SEGMENT_BACKFILL_RATE: Profile API requests per second; undefined → the backfill default (100). */
    readonly backfillRatePerSecond: number | undefined;
  };
  readonly mavera: {
    readonly apiKey: string | undefined;
    /** Without a trailing slash. */
    readonly baseUrl: string;
    readonly rateLimitPerMin: number;
    readonly sandbox: boolean;
    readonly dryRun: boolean;
  };
  readonly httpPort: number;
  readonly metricsPort: number;
  /** HTTP_HOST: the address the connectors' webhook server binds; undefined → every interface, IPv6 and IPv4. */
  readonly httpHost: string | undefined;
  /** METRICS_HOST: the address the ops server (/healthz, /readyz, /metrics) binds; undefined → every interface. */
  readonly metricsHost: string | undefined;
  /** METRICS_BEARER_TOKEN: when set, /metrics answers 401 without `Authorization: Bearer <it>`. */
  readonly metricsBearerToken: string | undefined;
  /** What one client may take of either HTTP server. */
  readonly httpLimits: HttpServerLimits;
  /** The connectors' rate limits, in requests per second per process; undefined: no limit (the variable is 0). */
  readonly connectorRateLimits: {
    /** STRIPE_WEBHOOK_RATE_LIMIT: Stripe's deliveries to /webhooks/stripe. */
    readonly stripeWebhookPerSecond: number | undefined;
    /** SEGMENT_WEBHOOK_RATE_LIMIT: the Segment Webhooks destination's deliveries to /webhooks/segment. */
    readonly segmentWebhookPerSecond: number | undefined;
    /** SEGMENT_WRITE_KEY_RATE_LIMIT: each write key's calls to the Tracking API. */
    readonly writeKeyPerSecond: number | undefined;
  };
  readonly logLevel: LogLevel;
  readonly flushIntervalMs: number;
  /** Lowercase ISO-4217 code. */
  readonly reportingCurrency: string;
  readonly pipelineConfigPath: string | undefined;
  readonly processor: {
    /** Local state directory (LMDB); undefined → a directory under the OS temp dir named for the client id. */
    readonly stateDir: string | undefined;
    /** A replay builds state generation N+1 next to N: its own consumer group and changelog topic. */
    readonly stateGeneration: number;
    readonly refreshIntervalMs: number;
    /** 0: event time only (no wall-clock advance of idle partitions). */
    readonly clockTickMs: number;
  };
  /**
   * MAX_EVENT_TIME_SKEW_MS: how far past its arrival an event time may lie. The connectors refuse a later one; the
   * processor dead-letters a record past the earlier of its publish time and the wall clock by more.
   */
  readonly maxEventTimeSkewMs: number;
  readonly sessionTimeoutMs: number;
  readonly shutdownGraceMs: number;
}

export interface EnvProblem {
  readonly variable: string;
  /** Why the value was rejected; never contains the value itself. */
  readonly reason: string;
}

/** Every invalid variable at once, by name. Values are never echoed, so secrets cannot leak into logs. */
export class EnvConfigError extends Error {
  constructor(readonly problems: readonly EnvProblem[]) {
    super(
      `invalid environment configuration:\n${problems.map((problem) => `  ${problem.variable}: ${problem.reason}`).join('\n')}`,
    );
    this.name = 'EnvConfigError';
  }
}

// Variable schemas. Each reads the raw value (string | undefined); blank counts as unset. Every message is ours,
// so no zod default message can ever quote an input.

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

function unsetWhenBlank(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function variable<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess(unsetWhenBlank, schema);
}

function reject(ctx: z.RefinementCtx, message: string): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

const text = z.string({ error: 'expected text' });

const booleanFlag = text.transform((value, ctx) => {
  const flag = BOOLEAN_WORDS[value.toLowerCase()];
  return flag ?? reject(ctx, 'expected true/false, 1/0 or yes/no');
});

function integer(min: number, max: number) {
  return text.transform((value, ctx) => {
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    return parsed >= min && parsed <= max ? parsed : reject(ctx, `expected an integer from ${min} to ${max}`);
  });
}

function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return text.transform((value, ctx): Values[number] => {
    const lower = value.toLowerCase();
    return values.find((candidate) => candidate === lower) ?? reject(ctx, `expected one of ${values.join(', ')}`);
  });
}

/**
 * kafkajs' `aws` mechanism is a SASL login module of its own, not Amazon MSK's IAM mechanism (AWS_MSK_IAM, which
 * kafkajs 2.2 lacks; MSK answers it "does not support the requested SASL mechanism"): refused here, where the
 * operator reads configuration errors, rather than at the first connection.
 */
const saslMechanism = text
  .refine((value) => value.toLowerCase() !== 'aws', {
    error: 'aws is not supported (kafkajs has no AWS_MSK_IAM); on Amazon MSK enable SASL/SCRAM and use scram-sha-512',
  })
  .pipe(oneOf(kafkaSaslMechanisms));

function matching(pattern: RegExp, expectation: string) {
  return text.regex(pattern, { error: expectation });
}

/** A comma-separated list; `isValid` checks each entry, `expectation` says what an entry must look like. */
function list(isValid: (entry: string) => boolean, expectation: string) {
  return text.transform((value, ctx) => {
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    if (entries.length === 0) return reject(ctx, 'lists no values');
    return entries.every(isValid) ? entries : reject(ctx, `every entry must be ${expectation}`);
  });
}

const secret = matching(/^\S+$/, 'must not contain whitespace');

const httpUrl = text.transform((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') return reject(ctx, 'expected an http(s) URL');
  return value.replace(/\/+$/, '');
});

const brokerAddress = (entry: string) => {
  const match = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(entry);
  const port = Number(match?.[1]);
  return port >= 1 && port <= 65_535;
};

const kafkaName = /^[A-Za-z0-9._-]+$/;

/**
 * Requests per second each connector rate limit admits by default, per process: Segment's own recommended ceiling
 * for one workspace on its Tracking API (reference/segment.md §1.6), which well-behaved senders already stay under.
 */
export const DEFAULT_CONNECTOR_RATE_LIMIT = 1_000;

/** A rate limit variable: 0 turns the limit off. */
function perSecondOrOff(perSecond: number): number | undefined {
  return perSecond === 0 ? undefined : perSecond;
}

/** An IPv4 address or an IPv6 one (hex groups and colons): what a server can bind, no host names. */
const bindAddress = /^(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/;

const variables = {
  KAFKA_BROKERS: variable(list(brokerAddress, 'host:port').optional()),
  KAFKA_CLIENT_ID: variable(matching(kafkaName, 'expected letters, digits, ".", "_" or "-"').default('persona-stream')),
  KAFKA_SSL: variable(booleanFlag.default(false)),
  KAFKA_SASL_MECHANISM: variable(saslMechanism.optional()),
  KAFKA_SASL_USERNAME: variable(text.optional()),
  KAFKA_SASL_PASSWORD: variable(text.optional()),
  KAFKA_TOPIC_PREFIX: variable(
    matching(/^[A-Za-z0-9._-]{1,200}$/, 'expected up to 200 letters, digits, ".", "_" or "-"').default(
      'persona-stream.',
    ),
  ),
  KAFKA_IDEMPOTENT: variable(booleanFlag.default(true)),
  SCHEMA_REGISTRY_URL: variable(httpUrl.optional()),
  SCHEMA_REGISTRY_USERNAME: variable(text.optional()),
  SCHEMA_REGISTRY_PASSWORD: variable(text.optional()),
  STRIPE_API_KEY: variable(
    matching(/^(?:sk|rk)_(?:live|test)_\S+$/, 'expected a secret (sk_…) or restricted (rk_…) Stripe key').optional(),
  ),
  STRIPE_WEBHOOK_SECRET: variable(list((entry) => /^whsec_\S+$/.test(entry), 'a whsec_… signing secret').optional()),
  STRIPE_API_URL: variable(httpUrl.optional()),
  STRIPE_BACKFILL_RATE: variable(integer(1, 1_000).optional()),
  SEGMENT_SHARED_SECRET: variable(list((entry) => /^\S+$/.test(entry), 'a secret without whitespace').optional()),
  SEGMENT_WEBHOOK_BATCH_TOKEN: variable(list((entry) => /^\S+$/.test(entry), 'a token without whitespace').optional()),
  SEGMENT_WRITE_KEYS: variable(list((entry) => /^\S+$/.test(entry), 'a write key without whitespace').optional()),
  SEGMENT_TOKEN: variable(secret.optional()),
  SEGMENT_SPACE_ID: variable(matching(/^\S+$/, 'must not contain whitespace').optional()),
  SEGMENT_PROFILE_API_URL: variable(httpUrl.optional()),
  SEGMENT_BACKFILL_RATE: variable(integer(1, 1_000).optional()),
  MAVERA_API_KEY: variable(secret.optional()),
  MAVERA_BASE_URL: variable(httpUrl.default('https://app.mavera.io/api/v1')),
  MAVERA_RATE_LIMIT_PER_MIN: variable(integer(1, 100_000).default(60)),
  MAVERA_SANDBOX: variable(booleanFlag.default(false)),
  MAVERA_DRY_RUN: variable(booleanFlag.default(false)),
  HTTP_PORT: variable(integer(0, 65_535).default(8080)),
  METRICS_PORT: variable(integer(0, 65_535).default(9464)),
  HTTP_HOST: variable(matching(bindAddress, 'expected an IPv4 or IPv6 address to bind, e.g. 127.0.0.1').optional()),
  METRICS_HOST: variable(matching(bindAddress, 'expected an IPv4 or IPv6 address to bind, e.g. 127.0.0.1').optional()),
  METRICS_BEARER_TOKEN: variable(secret.optional()),
  HTTP_MAX_CONNECTIONS: variable(integer(1, 1_000_000).default(DEFAULT_HTTP_LIMITS.maxConnections)),
  HTTP_HEADERS_TIMEOUT_MS: variable(integer(1_000, 600_000).default(DEFAULT_HTTP_LIMITS.headersTimeoutMs)),
  HTTP_REQUEST_TIMEOUT_MS: variable(integer(1_000, 600_000).default(DEFAULT_HTTP_LIMITS.requestTimeoutMs)),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: variable(integer(1_000, 600_000).default(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs)),
  STRIPE_WEBHOOK_RATE_LIMIT: variable(integer(0, 1_000_000).default(DEFAULT_CONNECTOR_RATE_LIMIT)),
  SEGMENT_WEBHOOK_RATE_LIMIT: variable(integer(0, 1_000_000).default(DEFAULT_CONNECTOR_RATE_LIMIT)),
  SEGMENT_WRITE_KEY_RATE_LIMIT: variable(integer(0, 1_000_000).default(DEFAULT_CONNECTOR_RATE_LIMIT)),
  LOG_LEVEL: variable(oneOf(logLevels).default('info')),
  FLUSH_INTERVAL_MS: variable(integer(1, 86_400_000).default(60_000)),
  REPORTING_CURRENCY: variable(
    text
      .transform((value, ctx) => {
        const code = value.toLowerCase();
        return /^[a-z]{3}$/.test(code) ? code : reject(ctx, 'expected a three-letter ISO-4217 currency code');
      })
      .default('usd'),
  ),
  PIPELINE_CONFIG: variable(text.optional()),
  STATE_DIR: variable(text.optional()),
  STATE_GENERATION: variable(integer(0, 1_000_000).default(0)),
  PROCESSOR_REFRESH_INTERVAL_MS: variable(integer(1_000, 31 * 86_400_000).default(3_600_000)),
  PROCESSOR_CLOCK_TICK_MS: variable(integer(0, 86_400_000).default(60_000)),
  MAX_EVENT_TIME_SKEW_MS: variable(integer(60_000, 31 * 86_400_000).default(DEFAULT_MAX_EVENT_TIME_SKEW_MS)),
  KAFKA_SESSION_TIMEOUT_MS: variable(integer(6_000, 300_000).default(30_000)),
  SHUTDOWN_GRACE_MS: variable(integer(0, 3_600_000).default(25_000)),
};

type VariableName = keyof typeof variables;
type ParsedVariables = { [Name in VariableName]: z.output<(typeof variables)[Name]> };

export const envVariableNames = Object.keys(variables) as readonly VariableName[];

/** Validates every variable of the design's configuration table; throws EnvConfigError listing all problems. */
export function loadEnv(env: Readonly<Record<string, string | undefined>>): EnvConfig {
  const problems: EnvProblem[] = [];
  const parsed: Partial<Record<VariableName, unknown>> = {};
  for (const name of envVariableNames) {
    const result = variables[name].safeParse(env[name]);
    if (result.success) parsed[name] = result.data;
    else problems.push(...result.error.issues.map((issue) => ({ variable: name, reason: issue.message })));
  }
  const values = parsed as ParsedVariables;
  problems.push(...crossVariableProblems(values, new Set(problems.map((problem) => problem.variable))));
  if (problems.length > 0) {
    const order = (problem: EnvProblem) => envVariableNames.indexOf(problem.variable as VariableName);
    throw new EnvConfigError(problems.sort((a, b) => order(a) - order(b)));
  }
  return toConfig(values);
}

/** Rules between variables; a variable that already failed on its own is not reported again. */
function crossVariableProblems(values: ParsedVariables, failed: ReadonlySet<string>): EnvProblem[] {
  const problems: EnvProblem[] = [];
  const report = (variable: VariableName, reason: string) => {
    if (!failed.has(variable)) problems.push({ variable, reason });
  };
  if (values.KAFKA_SASL_MECHANISM !== undefined || failed.has('KAFKA_SASL_MECHANISM')) {
    if (values.KAFKA_SASL_USERNAME === undefined)
      report('KAFKA_SASL_USERNAME', 'required when KAFKA_SASL_MECHANISM is set');
    if (values.KAFKA_SASL_PASSWORD === undefined)
      report('KAFKA_SASL_PASSWORD', 'required when KAFKA_SASL_MECHANISM is set');
  } else if (values.KAFKA_SASL_USERNAME !== undefined || values.KAFKA_SASL_PASSWORD !== undefined) {
    report('KAFKA_SASL_MECHANISM', 'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set');
  }
  const registryUser = values.SCHEMA_REGISTRY_USERNAME;
  const registryPassword = values.SCHEMA_REGISTRY_PASSWORD;
  if (registryUser !== undefined && registryPassword === undefined) {
    report('SCHEMA_REGISTRY_PASSWORD', 'required when SCHEMA_REGISTRY_USERNAME is set');
  }
  if (registryPassword !== undefined && registryUser === undefined) {
    report('SCHEMA_REGISTRY_USERNAME', 'required when SCHEMA_REGISTRY_PASSWORD is set');
  }
  if ((registryUser !== undefined || registryPassword !== undefined) && values.SCHEMA_REGISTRY_URL === undefined) {
    report('SCHEMA_REGISTRY_URL', 'required when registry credentials are set');
  }
  if (
    !failed.has('HTTP_HEADERS_TIMEOUT_MS') &&
    !failed.has('HTTP_REQUEST_TIMEOUT_MS') &&
    values.HTTP_HEADERS_TIMEOUT_MS > values.HTTP_REQUEST_TIMEOUT_MS
  ) {
    // Node refuses to start a server whose headers may take longer than the whole request.
    report(
      'HTTP_HEADERS_TIMEOUT_MS',
      `must not exceed HTTP_REQUEST_TIMEOUT_MS (${String(values.HTTP_REQUEST_TIMEOUT_MS)}); lower it with the request timeout`,
    );
  }
  if (!failed.has('HTTP_PORT') && values.HTTP_PORT !== 0 && values.HTTP_PORT === values.METRICS_PORT) {
    report('METRICS_PORT', 'must differ from HTTP_PORT (both servers run in one process for `all`)');
  }
  return problems;
}

function toConfig(values: ParsedVariables): EnvConfig {
  const mechanism = values.KAFKA_SASL_MECHANISM;
  const registryUrl = values.SCHEMA_REGISTRY_URL;
  return {
    kafka: {
      brokers: values.KAFKA_BROKERS,
      clientId: values.KAFKA_CLIENT_ID,
      ssl: values.KAFKA_SSL,
      sasl:
        mechanism === undefined
          ? undefined
          : { mechanism, username: values.KAFKA_SASL_USERNAME ?? '', password: values.KAFKA_SASL_PASSWORD ?? '' },
      topicPrefix: values.KAFKA_TOPIC_PREFIX,
      idempotent: values.KAFKA_IDEMPOTENT,
    },
    schemaRegistry:
      registryUrl === undefined
        ? undefined
        : { url: registryUrl, username: values.SCHEMA_REGISTRY_USERNAME, password: values.SCHEMA_REGISTRY_PASSWORD },
    stripe: {
      apiKey: values.STRIPE_API_KEY,
      webhookSecrets: values.STRIPE_WEBHOOK_SECRET ?? [],
      apiUrl: values.STRIPE_API_URL,
      backfillRatePerSecond: values.STRIPE_BACKFILL_RATE,
    },
    segment: {
      sharedSecrets: values.SEGMENT_SHARED_SECRET ?? [],
      webhookBatchTokens: values.SEGMENT_WEBHOOK_BATCH_TOKEN ?? [],
      writeKeys: values.SEGMENT_WRITE_KEYS ?? [],
      token: values.SEGMENT_TOKEN,
      spaceId: values.SEGMENT_SPACE_ID,
      profileApiUrl: values.SEGMENT_PROFILE_API_URL,
      backfillRatePerSecond: values.SEGMENT_BACKFILL_RATE,
    },
    mavera: {
      apiKey: values.MAVERA_API_KEY,
      baseUrl: values.MAVERA_BASE_URL,
      rateLimitPerMin: values.MAVERA_RATE_LIMIT_PER_MIN,
      sandbox: values.MAVERA_SANDBOX,
      dryRun: values.MAVERA_DRY_RUN,
    },
    httpPort: values.HTTP_PORT,
    metricsPort: values.METRICS_PORT,
    httpHost: values.HTTP_HOST,
    metricsHost: values.METRICS_HOST,
    metricsBearerToken: values.METRICS_BEARER_TOKEN,
    httpLimits: {
      maxConnections: values.HTTP_MAX_CONNECTIONS,
      headersTimeoutMs: values.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: values.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: values.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    connectorRateLimits: {
      stripeWebhookPerSecond: perSecondOrOff(values.STRIPE_WEBHOOK_RATE_LIMIT),
      segmentWebhookPerSecond: perSecondOrOff(values.SEGMENT_WEBHOOK_RATE_LIMIT),
      writeKeyPerSecond: perSecondOrOff(values.SEGMENT_WRITE_KEY_RATE_LIMIT),
    },
    logLevel: values.LOG_LEVEL,
    flushIntervalMs: values.FLUSH_INTERVAL_MS,
    reportingCurrency: values.REPORTING_CURRENCY,
    pipelineConfigPath: values.PIPELINE_CONFIG,
    processor: {
      stateDir: values.STATE_DIR,
      stateGeneration: values.STATE_GENERATION,
      refreshIntervalMs: values.PROCESSOR_REFRESH_INTERVAL_MS,
      clockTickMs: values.PROCESSOR_CLOCK_TICK_MS,
    },
    maxEventTimeSkewMs: values.MAX_EVENT_TIME_SKEW_MS,
    sessionTimeoutMs: values.KAFKA_SESSION_TIMEOUT_MS,
    shutdownGraceMs: values.SHUTDOWN_GRACE_MS,
  };
}
