import { given, type DemoIo } from './demo-io.js';

/**
 * What the demo configures for itself: the secrets its generated traffic is signed with, the pipeline file it runs
 * when the user gives none, and the environment of its in-process roles.
 */

/** The Stripe webhook signing secret the demo's connector accepts and its traffic is signed with. */
export const DEMO_STRIPE_WEBHOOK_SECRET = 'whsec_persona_stream_demo';
/** The Segment write key the demo's Tracking API accepts and its batches carry. */
export const DEMO_SEGMENT_WRITE_KEY = 'persona-stream-demo-write-key';
/** The Segment webhook destination's secret (the demo sends Tracking API batches; the route still needs one). */
export const DEMO_SEGMENT_SHARED_SECRET = 'persona-stream-demo-shared-secret';
/**
 * Short enough to show personas forming several times within a run of under a minute; long enough that the dry
 * run's printout of every changed persona stays readable.
 */
export const DEMO_FLUSH_INTERVAL_MS = 5_000;

/** Major units of USD per major unit of each currency the traffic generator bills in. */
const USD_VALUE: Readonly<Record<string, number>> = { usd: 1, eur: 1.08, jpy: 0.0067 };

/**
 * The demo's pipeline file: the default rules plus FX rates for the generator's EUR and JPY plans, expressed in the
 * reporting currency. A reporting currency the table does not know gets no rates (its profiles then list the
 * unconverted currencies, as in production).
 */
export function demoPipelineConfig(reportingCurrency: string): { fx_rates: Record<string, number> } {
  const reporting = reportingCurrency.toLowerCase();
  const reportingValue = USD_VALUE[reporting];
  const fxRates: Record<string, number> = {};
  if (reportingValue !== undefined) {
    for (const [currency, value] of Object.entries(USD_VALUE)) {
      if (currency !== reporting) fxRates[currency] = value / reportingValue;
    }
  }
  return { fx_rates: fxRates };
}

export interface DemoEnvironmentInputs {
  /** The embedded broker's bootstrap list and the demo's own topic prefix; absent → the user's KAFKA_* settings. */
  readonly embedded:
    | {
        readonly brokers: readonly string[];
        readonly topicPrefix: string;
        /** False on librdkafka's mock cluster, which cannot hand out producer ids. */
        readonly idempotent: boolean;
      }
    | undefined;
  readonly stateDir: string;
  /** Used when the user sets no PIPELINE_CONFIG. */
  readonly pipelineConfigPath: string;
}

/**
 * The environment the demo's roles run with: the user's, with what the demo must decide itself (the broker, a topic
 * prefix of its own, a throwaway state directory, event-time-only processing, its own secrets) and defaults the user
 * may override (flush interval, log level, ports). Without MAVERA_API_KEY the flusher is a dry run.
 */
export function demoEnvironment(
  user: DemoIo['env'],
  inputs: DemoEnvironmentInputs,
): Record<string, string | undefined> {
  const environment: Record<string, string | undefined> = {
    ...user,
    FLUSH_INTERVAL_MS: given(user, 'FLUSH_INTERVAL_MS') ?? String(DEMO_FLUSH_INTERVAL_MS),
    LOG_LEVEL: given(user, 'LOG_LEVEL') ?? 'warn',
    HTTP_PORT: given(user, 'HTTP_PORT') ?? '0',
    METRICS_PORT: given(user, 'METRICS_PORT') ?? '0',
    KAFKA_SESSION_TIMEOUT_MS: given(user, 'KAFKA_SESSION_TIMEOUT_MS') ?? '10000',
    MAVERA_DRY_RUN: given(user, 'MAVERA_API_KEY') === undefined ? 'true' : given(user, 'MAVERA_DRY_RUN'),
    PIPELINE_CONFIG: given(user, 'PIPELINE_CONFIG') ?? inputs.pipelineConfigPath,
    STATE_DIR: inputs.stateDir,
    STATE_GENERATION: '0',
    // Profiles are judged at the simulated time the traffic reached, never at the wall clock.
    PROCESSOR_CLOCK_TICK_MS: '0',
    STRIPE_WEBHOOK_SECRET: DEMO_STRIPE_WEBHOOK_SECRET,
    // The generated disputes carry their charge expanded: no Stripe API lookups, whatever key the shell holds.
    STRIPE_API_KEY: undefined,
    SEGMENT_WRITE_KEYS: DEMO_SEGMENT_WRITE_KEY,
    SEGMENT_SHARED_SECRET: DEMO_SEGMENT_SHARED_SECRET,
  };
  if (inputs.embedded !== undefined) {
    environment['KAFKA_BROKERS'] = inputs.embedded.brokers.join(',');
    environment['KAFKA_TOPIC_PREFIX'] = inputs.embedded.topicPrefix;
    environment['KAFKA_IDEMPOTENT'] = String(inputs.embedded.idempotent);
    for (const name of [
      'KAFKA_SSL',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
      'SCHEMA_REGISTRY_URL',
      'SCHEMA_REGISTRY_USERNAME',
      'SCHEMA_REGISTRY_PASSWORD',
    ]) {
      environment[name] = undefined;
    }
  }
  return environment;
}
