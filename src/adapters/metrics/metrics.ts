import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  LabelGuard,
  LabelledCounter,
  LabelledGauge,
  LabelledHistogram,
  PlainCounter,
  PlainGauge,
  PlainHistogram,
  type LabelShape,
} from './instruments.js';
import { packageVersion } from './package-version.js';

export const METRIC_PREFIX = 'persona_stream_';

/** The flusher's verdict on one segment summary. */
export const flushDecisions = ['created', 'updated', 'unchanged', 'failed'] as const;
export type FlushDecision = (typeof flushDecisions)[number];

/**
 * How many distinct values each label may take before new ones fold into `other` (see LabelValueLimit). Generous for
 * legitimate use (topics, partitions, HTTP statuses), far below what a per-customer value would produce.
 */
export const LABEL_LIMITS = {
  topic: 32,
  partition: 4_096,
  group: 16,
  role: 16,
  reason: 64,
  // Every path the connectors serve (Stripe, the Segment webhook, each Tracking API alias) plus `other`.
  route: 24,
  result: 16,
  kind: 16,
  decision: flushDecisions.length,
  endpoint: 32,
  status: 64,
} as const;
type LabelLimitName = keyof typeof LABEL_LIMITS;

/** Per batch: from a millisecond to tens of seconds. */
export const PROCESSING_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A partition's state restore: from an empty changelog to a large one. */
export const RESTORE_BUCKETS_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200];
/** A webhook answer includes the broker acknowledgement (acks=all). */
export const WEBHOOK_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A Mavera call over the internet, retries excluded (each attempt is observed). */
export const MAVERA_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * prom-client's default collectors export three gauges with a `_total` suffix, which Prometheus reserves for
 * counters (`promtool check metrics` rejects them). Each is the sum over its unsuffixed per-type sibling, which stays.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

export interface MetricsOptions {
  /** build_info's `version`; the package.json version by default. */
  readonly version?: string;
  /** build_info's `node_version`; `process.version` by default. */
  readonly nodeVersion?: string;
  /** Node and process metrics under their standard names (`process_*`, `nodejs_*`); on by default. */
  readonly defaultMetrics?: boolean;
}

type Kafka3 = { group: string; topic: string; partition: number };

export interface Metrics {
  readonly registry: Registry;
  /** The scrape's Content-Type (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** The scrape: every metric in the Prometheus text format. */
  text(): Promise<string>;

  readonly recordsConsumed: LabelledCounter<{ topic: string }>;
  readonly recordsProduced: LabelledCounter<{ topic: string }>;
  readonly processingDuration: LabelledHistogram<{ role: string }>;
  readonly consumerGroupLag: LabelledGauge<Kafka3>;
  readonly consumerGroupLagSeconds: LabelledGauge<Kafka3>;
  readonly stateEntries: LabelledGauge<{ partition: number }>;
  readonly stateBytes: LabelledGauge<{ partition: number }>;
  readonly restoreDuration: PlainHistogram;
  readonly restoredRecords: PlainCounter;
  /** Event-time watermark in unix seconds. */
  readonly watermark: LabelledGauge<{ partition: number }>;
  /** `reason` is an error code (the dead letter's error_code), never a message. */
  readonly dlqRecords: LabelledCounter<{ reason: string }>;
  readonly webhookRequests: LabelledCounter<{ route: string; result: string }>;
  readonly webhookRequestDuration: LabelledHistogram<{ route: string }>;
  readonly profilesChanged: LabelledCounter<{ kind: string }>;
  readonly flushRuns: LabelledCounter<{ result: string }>;
  readonly flushDecisions: LabelledCounter<{ decision: FlushDecision }>;
  /** `status` is the HTTP status, or a word for a call that got none (e.g. `network_error`, `timeout`). */
  readonly maveraRequests: LabelledCounter<{ endpoint: string; status: number | string }>;
  readonly maveraRequestDuration: LabelledHistogram<{ endpoint: string }>;
  readonly maveraRetries: LabelledCounter<{ endpoint: string }>;
  readonly maveraRateLimited: PlainCounter;
  readonly maveraCreditsSpent: PlainCounter;
  /** 1 on the flusher instance that holds the active role, 0 elsewhere. */
  readonly flusherActive: PlainGauge;
}

/** One registry per process role: default Node/process metrics plus every persona_stream_* metric. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const registers = [registry];

  function guard<Labels extends LabelShape>(names: readonly (keyof Labels & LabelLimitName)[]): LabelGuard<Labels> {
    const limits: Partial<Record<keyof Labels & string, number>> = {};
    for (const name of names) limits[name] = LABEL_LIMITS[name];
    return new LabelGuard<Labels>(limits as Record<keyof Labels & string, number>);
  }
  function counter<Labels extends LabelShape>(
    name: string,
    help: string,
    labels: readonly (keyof Labels & LabelLimitName)[],
  ): LabelledCounter<Labels> {
    const bounded = guard<Labels>(labels);
    return new LabelledCounter(
      new Counter({ name: METRIC_PREFIX + name, help, labelNames: bounded.labelNames, registers }),
      bounded,
    );
  }
  function gauge<Labels extends LabelShape>(
    name: string,
    help: string,
    labels: readonly (keyof Labels & LabelLimitName)[],
  ): LabelledGauge<Labels> {
    const bounded = guard<Labels>(labels);
    return new LabelledGauge(
      new Gauge({ name: METRIC_PREFIX + name, help, labelNames: bounded.labelNames, registers }),
      bounded,
    );
  }
  function histogram<Labels extends LabelShape>(
    name: string,
    help: string,
    labels: readonly (keyof Labels & LabelLimitName)[],
    buckets: readonly number[],
  ): LabelledHistogram<Labels> {
    const bounded = guard<Labels>(labels);
    return new LabelledHistogram(
      new Histogram({
        name: METRIC_PREFIX + name,
        help,
        labelNames: bounded.labelNames,
        buckets: [...buckets],
        registers,
      }),
      bounded,
    );
  }
  const plainCounter = (name: string, help: string) =>
    new PlainCounter(new Counter({ name: METRIC_PREFIX + name, help, registers }));

  const kafka3 = ['group', 'topic', 'partition'] as const;
  const flushDecisionsCounter = counter<{ decision: FlushDecision }>(
    'flush_decisions_total',
    'Segment summaries the flusher decided on, by decision (created, updated, unchanged, failed).',
    ['decision'],
  );
  // Known label values start at 0, so rate() and increase() see the first increment.
  for (const decision of flushDecisions) flushDecisionsCounter.inc({ decision }, 0);

  const flusherActiveGauge = new Gauge({
    name: `${METRIC_PREFIX}flusher_active`,
    help: 'Whether this instance is the active flusher (1) or a standby (0).',
    registers,
  });
  new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: 'Always 1; labels carry the persona-stream version and the Node.js version.',
    labelNames: ['version', 'node_version'],
    registers,
  }).set({ version: options.version ?? packageVersion(), node_version: options.nodeVersion ?? process.version }, 1);

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),

    recordsConsumed: counter('records_consumed_total', 'Records consumed from Kafka, by topic.', ['topic']),
    recordsProduced: counter('records_produced_total', 'Records produced to Kafka and acknowledged, by topic.', [
      'topic',
    ]),
    processingDuration: histogram(
      'processing_duration_seconds',
      'Time to process one consumed batch, by role.',
      ['role'],
      PROCESSING_BUCKETS_SECONDS,
    ),
    consumerGroupLag: gauge(
      'consumergroup_group_lag',
      'Consumer group lag in records (high watermark minus committed offset), as kafka-lag-exporter reports it.',
      kafka3,
    ),
    consumerGroupLagSeconds: gauge(
      'consumergroup_group_lag_seconds',
      'Consumer group lag in seconds: how old the oldest unprocessed record is, as kafka-lag-exporter reports it.',
      kafka3,
    ),
    stateEntries: gauge('state_entries', 'Entities held in the local state store, by partition.', ['partition']),
    stateBytes: gauge('state_bytes', 'Bytes of entity state in the local state store, by partition.', ['partition']),
    restoreDuration: new PlainHistogram(
      new Histogram({
        name: `${METRIC_PREFIX}restore_duration_seconds`,
        help: 'Time to restore one assigned partition’s state from the changelog.',
        buckets: [...RESTORE_BUCKETS_SECONDS],
        registers,
      }),
    ),
    restoredRecords: plainCounter('restored_records_total', 'Changelog records read while restoring state.'),
    watermark: gauge('watermark_seconds', 'Event-time watermark as unix seconds, by partition.', ['partition']),
    dlqRecords: counter('dlq_records_total', 'Records sent to the dead-letter topic, by reason code.', ['reason']),
    webhookRequests: counter(
      'webhook_requests_total',
      'Webhook and Tracking API requests answered, by route and result.',
      ['route', 'result'],
    ),
    webhookRequestDuration: histogram(
      'webhook_request_duration_seconds',
      'Time to answer a webhook request, broker acknowledgement included, by route.',
      ['route'],
      WEBHOOK_BUCKETS_SECONDS,
    ),
    profilesChanged: counter('profiles_changed_total', 'Profiles written because they changed, by kind.', ['kind']),
    flushRuns: counter('flush_runs_total', 'Flusher runs, by result.', ['result']),
    flushDecisions: flushDecisionsCounter,
    maveraRequests: counter('mavera_requests_total', 'Mavera API calls (each attempt), by endpoint and status.', [
      'endpoint',
      'status',
    ]),
    maveraRequestDuration: histogram(
      'mavera_request_duration_seconds',
      'Time of one Mavera API call attempt, by endpoint.',
      ['endpoint'],
      MAVERA_BUCKETS_SECONDS,
    ),
    maveraRetries: counter('mavera_retries_total', 'Mavera API calls retried, by endpoint.', ['endpoint']),
    maveraRateLimited: plainCounter('mavera_rate_limited_total', 'Mavera API answers of 429 Too Many Requests.'),
    maveraCreditsSpent: plainCounter('mavera_credits_spent_total', 'Mavera credits spent, as Mavera reports them.'),
    flusherActive: new PlainGauge(flusherActiveGauge),
  };
}
