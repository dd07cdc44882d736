import { describe, expect, it } from 'vitest';
import { EnvConfigError, loadEnv } from '../../../src/config/env.js';
import type { EnvProblem } from '../../../src/config/env.js';

function problemsOf(env: Record<string, string | undefined>): readonly EnvProblem[] {
  try {
    loadEnv(env);
  } catch (error) {
    if (error instanceof EnvConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected loadEnv to reject the environment');
}

function messageOf(env: Record<string, string | undefined>): string {
  try {
    loadEnv(env);
  } catch (error) {
    if (error instanceof EnvConfigError) return error.message;
    throw error;
  }
  throw new Error('expected loadEnv to reject the environment');
}

describe('loadEnv', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadEnv({})).toEqual({
      kafka: {
        brokers: undefined,
        clientId: 'persona-stream',
        ssl: false,
        sasl: undefined,
        topicPrefix: 'persona-stream.',
        idempotent: true,
      },
      schemaRegistry: undefined,
      stripe: { apiKey: undefined, webhookSecrets: [] },
      segment: { sharedSecrets: [], webhookBatchTokens: [], writeKeys: [], token: undefined, spaceId: undefined },
      mavera: {
        apiKey: undefined,
        baseUrl: 'https://app.mavera.io/api/v1',
        rateLimitPerMin: 60,
        sandbox: false,
        dryRun: false,
      },
      httpPort: 8080,
      metricsPort: 9464,
      httpHost: undefined,
      metricsHost: undefined,
      metricsBearerToken: undefined,
      httpLimits: {
        maxConnections: 1_024,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5_000,
      },
      connectorRateLimits: { stripeWebhookPerSecond: 1_000, segmentWebhookPerSecond: 1_000, writeKeyPerSecond: 1_000 },
      logLevel: 'info',
      flushIntervalMs: 60_000,
      reportingCurrency: 'usd',
      pipelineConfigPath: undefined,
      processor: { stateDir: undefined, stateGeneration: 0, refreshIntervalMs: 3_600_000, clockTickMs: 60_000 },
      maxEventTimeSkewMs: 86_400_000,
      sessionTimeoutMs: 30_000,
      shutdownGraceMs: 25_000,
    });
  });

  it('refuses a bind address that is a host name or not an address at all', () => {
    const problems = problemsOf({ HTTP_HOST: 'example.com', METRICS_HOST: '0.0.0.0; rm' });
    expect(problems.map((problem) => problem.variable)).toEqual(['HTTP_HOST', 'METRICS_HOST']);
    expect(loadEnv({ METRICS_HOST: '::1' }).metricsHost).toBe('::1');
  });

  it('refuses a connector rate limit that is not a whole number of requests per second, without echoing it', () => {
    const problems = problemsOf({ STRIPE_WEBHOOK_RATE_LIMIT: '-1', SEGMENT_WRITE_KEY_RATE_LIMIT: '2.5' });
    expect(problems).toEqual([
      { variable: 'STRIPE_WEBHOOK_RATE_LIMIT', reason: 'expected an integer from 0 to 1000000' },
      { variable: 'SEGMENT_WRITE_KEY_RATE_LIMIT', reason: 'expected an integer from 0 to 1000000' },
    ]);
    expect(problemsOf({ SEGMENT_WEBHOOK_BATCH_TOKEN: 'a b' })).toEqual([
      { variable: 'SEGMENT_WEBHOOK_BATCH_TOKEN', reason: 'every entry must be a token without whitespace' },
    ]);
  });

  it('treats blank values as unset', () => {
    expect(loadEnv({ HTTP_PORT: '', KAFKA_BROKERS: '  ', LOG_LEVEL: ' ' })).toMatchObject({
      httpPort: 8080,
      kafka: { brokers: undefined },
      logLevel: 'info',
    });
  });

  it('reads a full production environment', () => {
    const config = loadEnv({
      KAFKA_BROKERS: 'b-1.msk.internal:9096, b-2.msk.internal:9096,[::1]:9092',
      KAFKA_CLIENT_ID: 'persona-stream-prod',
      KAFKA_SSL: 'YES',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'svc-persona',
      KAFKA_SASL_PASSWORD: 'p4ss',
      KAFKA_TOPIC_PREFIX: 'prod.persona.',
      SCHEMA_REGISTRY_URL: 'https://psrc-123.confluent.cloud/',
      SCHEMA_REGISTRY_USERNAME: 'SRKEY',
      SCHEMA_REGISTRY_PASSWORD: 'SRSECRET',
      STRIPE_API_KEY: 'rk_live_abc123',
      STRIPE_WEBHOOK_SECRET: 'whsec_old,whsec_new',
      SEGMENT_SHARED_SECRET: 'seg-shared',
      SEGMENT_WEBHOOK_BATCH_TOKEN: 'bt_new,bt_old',
      SEGMENT_WRITE_KEYS: 'wk_a, wk_b',
      SEGMENT_TOKEN: 'sgp_tok',
      SEGMENT_SPACE_ID: 'spa_9',
      MAVERA_API_KEY: 'mvra_live_0123456789abcdef0123456789ab',
      MAVERA_BASE_URL: 'http://127.0.0.1:4010/api/v1/',
      MAVERA_RATE_LIMIT_PER_MIN: '300',
      MAVERA_SANDBOX: '1',
      MAVERA_DRY_RUN: 'no',
      HTTP_PORT: '0',
      METRICS_PORT: '0',
      HTTP_HOST: '0.0.0.0',
      METRICS_HOST: '10.42.0.17',
      METRICS_BEARER_TOKEN: 'scrape-secret',
      HTTP_MAX_CONNECTIONS: '4096',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      STRIPE_WEBHOOK_RATE_LIMIT: '200',
      SEGMENT_WEBHOOK_RATE_LIMIT: '0',
      SEGMENT_WRITE_KEY_RATE_LIMIT: '50',
      LOG_LEVEL: 'DEBUG',
      FLUSH_INTERVAL_MS: '15000',
      REPORTING_CURRENCY: 'EUR',
      PIPELINE_CONFIG: '/etc/persona-stream/pipeline.yaml',
      STATE_DIR: '/var/lib/persona-stream/state',
      STATE_GENERATION: '2',
      PROCESSOR_REFRESH_INTERVAL_MS: '600000',
      PROCESSOR_CLOCK_TICK_MS: '0',
      MAX_EVENT_TIME_SKEW_MS: '3600000',
      KAFKA_SESSION_TIMEOUT_MS: '45000',
      KAFKA_IDEMPOTENT: 'false',
      SHUTDOWN_GRACE_MS: '20000',
      UNRELATED: 'ignored',
    });
    expect(config).toEqual({
      kafka: {
        brokers: ['b-1.msk.internal:9096', 'b-2.msk.internal:9096', '[::1]:9092'],
        clientId: 'persona-stream-prod',
        ssl: true,
        sasl: { mechanism: 'scram-sha-512', username: 'svc-persona', password: 'p4ss' },
        topicPrefix: 'prod.persona.',
        idempotent: false,
      },
      schemaRegistry: { url: 'https://psrc-123.confluent.cloud', username: 'SRKEY', password: 'SRSECRET' },
      stripe: { apiKey: 'rk_live_abc123', webhookSecrets: ['whsec_old', 'whsec_new'] },
      segment: {
        sharedSecrets: ['seg-shared'],
        webhookBatchTokens: ['bt_new', 'bt_old'],
        writeKeys: ['wk_a', 'wk_b'],
        token: 'sgp_tok',
        spaceId: 'spa_9',
      },
      mavera: {
        apiKey: 'mvra_live_0123456789abcdef0123456789ab',
        baseUrl: 'http://127.0.0.1:4010/api/v1',
        rateLimitPerMin: 300,
        sandbox: true,
        dryRun: false,
      },
      httpPort: 0,
      metricsPort: 0,
      httpHost: '0.0.0.0',
      metricsHost: '10.42.0.17',
      metricsBearerToken: 'scrape-secret',
      httpLimits: {
        maxConnections: 4_096,
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 20_000,
        keepAliveTimeoutMs: 65_000,
      },
      // 0 turns a limit off.
      connectorRateLimits: { stripeWebhookPerSecond: 200, segmentWebhookPerSecond: undefined, writeKeyPerSecond: 50 },
      logLevel: 'debug',
      flushIntervalMs: 15_000,
      reportingCurrency: 'eur',
      pipelineConfigPath: '/etc/persona-stream/pipeline.yaml',
      processor: {
        stateDir: '/var/lib/persona-stream/state',
        stateGeneration: 2,
        refreshIntervalMs: 600_000,
        clockTickMs: 0,
      },
      maxEventTimeSkewMs: 3_600_000,
      sessionTimeoutMs: 45_000,
      shutdownGraceMs: 20_000,
    });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['No', false],
  ])('reads the boolean %s as %s', (raw, expected) => {
    expect(loadEnv({ MAVERA_DRY_RUN: raw }).mavera.dryRun).toBe(expected);
  });

  it('lists every invalid variable by name, in table order, all at once', () => {
    expect(
      problemsOf({
        KAFKA_BROKERS: 'localhost',
        KAFKA_SSL: 'maybe',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_TOPIC_PREFIX: 'bad prefix/',
        SCHEMA_REGISTRY_URL: 'ftp://registry',
        STRIPE_API_KEY: 'pk_live_123',
        STRIPE_WEBHOOK_SECRET: 'whsec_ok,notasecret',
        SEGMENT_WRITE_KEYS: ' , ,',
        MAVERA_BASE_URL: 'not a url',
        MAVERA_RATE_LIMIT_PER_MIN: '0',
        HTTP_PORT: '70000',
        METRICS_PORT: '9.5',
        LOG_LEVEL: 'verbose',
        FLUSH_INTERVAL_MS: '1e3',
        REPORTING_CURRENCY: 'dollars',
      }),
    ).toEqual([
      { variable: 'KAFKA_BROKERS', reason: 'every entry must be host:port' },
      { variable: 'KAFKA_SSL', reason: 'expected true/false, 1/0 or yes/no' },
      { variable: 'KAFKA_SASL_MECHANISM', reason: 'expected one of plain, scram-sha-256, scram-sha-512' },
      { variable: 'KAFKA_SASL_USERNAME', reason: 'required when KAFKA_SASL_MECHANISM is set' },
      { variable: 'KAFKA_SASL_PASSWORD', reason: 'required when KAFKA_SASL_MECHANISM is set' },
      { variable: 'KAFKA_TOPIC_PREFIX', reason: 'expected up to 200 letters, digits, ".", "_" or "-"' },
      { variable: 'SCHEMA_REGISTRY_URL', reason: 'expected an http(s) URL' },
      { variable: 'STRIPE_API_KEY', reason: 'expected a secret (sk_…) or restricted (rk_…) Stripe key' },
      { variable: 'STRIPE_WEBHOOK_SECRET', reason: 'every entry must be a whsec_… signing secret' },
      { variable: 'SEGMENT_WRITE_KEYS', reason: 'lists no values' },
      { variable: 'MAVERA_BASE_URL', reason: 'expected an http(s) URL' },
      { variable: 'MAVERA_RATE_LIMIT_PER_MIN', reason: 'expected an integer from 1 to 100000' },
      { variable: 'HTTP_PORT', reason: 'expected an integer from 0 to 65535' },
      { variable: 'METRICS_PORT', reason: 'expected an integer from 0 to 65535' },
      { variable: 'LOG_LEVEL', reason: 'expected one of fatal, error, warn, info, debug, trace, silent' },
      { variable: 'FLUSH_INTERVAL_MS', reason: 'expected an integer from 1 to 86400000' },
      { variable: 'REPORTING_CURRENCY', reason: 'expected a three-letter ISO-4217 currency code' },
    ]);
  });

  it('refuses KAFKA_SASL_MECHANISM=aws when reading the environment, saying what to use on MSK instead', () => {
    // kafkajs' `aws` mechanism is not MSK IAM: it used to pass here and fail only when the client was built.
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'AWS', KAFKA_SASL_USERNAME: 'AKIA', KAFKA_SASL_PASSWORD: 's' })).toEqual([
      {
        variable: 'KAFKA_SASL_MECHANISM',
        reason:
          'aws is not supported (kafkajs has no AWS_MSK_IAM); on Amazon MSK enable SASL/SCRAM and use scram-sha-512',
      },
    ]);
  });

  it('requires SASL credentials and registry credentials in pairs', () => {
    expect(problemsOf({ KAFKA_SASL_PASSWORD: 'p' })).toEqual([
      { variable: 'KAFKA_SASL_MECHANISM', reason: 'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set' },
    ]);
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      { variable: 'KAFKA_SASL_PASSWORD', reason: 'required when KAFKA_SASL_MECHANISM is set' },
    ]);
    expect(problemsOf({ SCHEMA_REGISTRY_USERNAME: 'u' })).toEqual([
      { variable: 'SCHEMA_REGISTRY_URL', reason: 'required when registry credentials are set' },
      { variable: 'SCHEMA_REGISTRY_PASSWORD', reason: 'required when SCHEMA_REGISTRY_USERNAME is set' },
    ]);
  });

  it('rejects the same port for the HTTP and metrics servers, except 0 (any free port)', () => {
    expect(problemsOf({ HTTP_PORT: '9464' })).toEqual([
      { variable: 'METRICS_PORT', reason: 'must differ from HTTP_PORT (both servers run in one process for `all`)' },
    ]);
    expect(loadEnv({ HTTP_PORT: '0', METRICS_PORT: '0' })).toMatchObject({ httpPort: 0, metricsPort: 0 });
  });

  it('names the variables in the error message and never echoes a secret value', () => {
    // Each value is invalid and carries a marker (S3CR3T…) that must not reach the message.
    const secrets = {
      KAFKA_SASL_PASSWORD: 'S3CR3T-kafka pass',
      SCHEMA_REGISTRY_URL: 'ftp://user:S3CR3T-registry@registry',
      STRIPE_API_KEY: 'pk_live_S3CR3T-stripe',
      STRIPE_WEBHOOK_SECRET: 'whsec_good,wh_S3CR3T-webhook',
      SEGMENT_SHARED_SECRET: 'S3CR3T-shared secret',
      SEGMENT_WRITE_KEYS: 'wk S3CR3T-writekey',
      SEGMENT_TOKEN: 'tok S3CR3T-token',
      MAVERA_API_KEY: 'mvra_live_ S3CR3T-mavera',
    };
    const message = messageOf(secrets);
    expect(message).toBe(
      [
        'invalid environment configuration:',
        '  KAFKA_SASL_MECHANISM: required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set',
        '  SCHEMA_REGISTRY_URL: expected an http(s) URL',
        '  STRIPE_API_KEY: expected a secret (sk_…) or restricted (rk_…) Stripe key',
        '  STRIPE_WEBHOOK_SECRET: every entry must be a whsec_… signing secret',
        '  SEGMENT_SHARED_SECRET: every entry must be a secret without whitespace',
        '  SEGMENT_WRITE_KEYS: every entry must be a write key without whitespace',
        '  SEGMENT_TOKEN: must not contain whitespace',
        '  MAVERA_API_KEY: must not contain whitespace',
      ].join('\n'),
    );
    expect(message).not.toContain('S3CR3T');
    expect(message).not.toContain('whsec_good');
  });
});

describe('loadEnv: HTTP timeouts', () => {
  it('refuses a headers timeout longer than the request timeout, naming both, instead of a server that cannot start', () => {
    const problems = problemsOf({ HTTP_REQUEST_TIMEOUT_MS: '5000' });
    expect(problems).toEqual([
      { variable: 'HTTP_HEADERS_TIMEOUT_MS', reason: expect.stringContaining('HTTP_REQUEST_TIMEOUT_MS') as string },
    ]);
    expect(loadEnv({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '3000' }).httpLimits).toMatchObject({
      headersTimeoutMs: 3_000,
      requestTimeoutMs: 5_000,
    });
  });
});
