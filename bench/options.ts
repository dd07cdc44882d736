import { parseArgs } from 'node:util';
import type { BrokerTarget } from './kafka/bench-cluster.js';
import { scenarioNames, type ScenarioName } from './report.js';
import type { FlushOptions } from './scenarios/flush.js';
import type { ProcessorScenarioOptions } from './scenarios/processor.js';
import type { ReducerOptions } from './scenarios/reducer.js';
import type { RestoreOptions } from './scenarios/restore.js';
import type { WebhookOptions } from './scenarios/webhooks.js';

export interface BenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
  readonly save: boolean;
  readonly scenarios: readonly ScenarioName[];
  /** The brokers the Kafka scenarios run on, each in turn (`--broker both`: the real one, then the mock). */
  readonly brokers: readonly BrokerTarget[];
  readonly reducer: ReducerOptions;
  readonly processor: ProcessorScenarioOptions;
  readonly restore: RestoreOptions;
  readonly flush: FlushOptions;
  readonly webhooks: WebhookOptions;
}

/** A flag the bench cannot use; the message names it. */
export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export const BENCH_USAGE = `usage: npm run bench -- [flags]   (or: node dist/bench/main.js [flags])

  --quick                 small sizes, about a minute: the CI smoke run
  --json                  one JSON record on stdout instead of the table
  --save                  append the record to bench/results/<date>-<machine>.json
  --only LIST             scenarios to run, comma-separated: ${scenarioNames.join(', ')}
                          (processor and replay share their runs: either runs both)
  --broker WHICH          where the Kafka scenarios run: kafka (default; a local Apache Kafka started once for
                          the run, or the cluster in KAFKA_BROKERS), mock (librdkafka's mock cluster, a fresh one
                          per scenario) or both (each scenario on kafka, then on the mock; figures side by side)
  --kafka-per-scenario    a local Apache Kafka of its own for each scenario instead of one for the run
  --runs N                repetitions of every repeated measurement (default 3, quick 2; processor + replay
                          default 2, quick 1; restore quick 1)
  --seed N                traffic generator seed (default 1)
  reducer:   --customers N --users N (default 50000 each, quick 2000) --months N (6)
  processor + replay:  --events N (default 500000, quick 20000) --partitions N (24)
  restore:   --restore LIST  customers per changelog (default 100000,1000000, quick 20000)
  flush:     --flush-events N (100000, quick 5000) --flush-rate N events/s (2500)
             --flush-interval-ms N (2000) --flush-partitions N (6)
  webhooks:  --webhooks N Stripe webhooks per run (3000, quick 200) --segment-batches N (100, quick 10)
             --batch-size N messages per Segment batch (100) --concurrency N (16)
  KAFKA_BROKERS=host:port,…  the "kafka" broker is that cluster instead of a local Apache Kafka
  KAFKA_VERSION=x.y.z     the local Apache Kafka's release (default: the pinned one)`;

const flags = {
  quick: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  save: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
  only: { type: 'string' },
  broker: { type: 'string', default: 'kafka' },
  'kafka-per-scenario': { type: 'boolean', default: false },
  runs: { type: 'string' },
  seed: { type: 'string' },
  customers: { type: 'string' },
  users: { type: 'string' },
  months: { type: 'string' },
  events: { type: 'string' },
  partitions: { type: 'string' },
  restore: { type: 'string' },
  'flush-events': { type: 'string' },
  'flush-rate': { type: 'string' },
  'flush-interval-ms': { type: 'string' },
  'flush-partitions': { type: 'string' },
  webhooks: { type: 'string' },
  'segment-batches': { type: 'string' },
  'batch-size': { type: 'string' },
  concurrency: { type: 'string' },
} as const;

/** The bench's flags, with full-run or quick defaults; `help` when --help was given. */
export function parseBenchOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): BenchOptions | 'help' {
  let values;
  try {
    values = parseArgs({ args: [...args], options: flags, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const quick = values.quick;
  const pick = (full: number, fast: number) => (quick ? fast : full);
  const count = (name: keyof typeof flags, fallback: number): number => {
    const text = values[name];
    if (text === undefined || typeof text === 'boolean') return fallback;
    return positiveInteger(name, text);
  };
  // Each processor run replays every event twice (live role and `replay`): 2 runs keep the full suite in 10 minutes.
  const runs = count('runs', pick(3, 2));
  const processorRuns = count('runs', pick(2, 1));
  const restoreRuns = count('runs', pick(3, 1));
  const seed = count('seed', 1);
  const partitions = count('partitions', 24);
  return {
    quick,
    json: values.json,
    save: values.save,
    scenarios: values.only === undefined ? scenarioNames : scenarioList(values.only),
    brokers: brokerTargets(values.broker, values['kafka-per-scenario'], env),
    reducer: {
      customers: count('customers', pick(50_000, 2_000)),
      users: count('users', pick(50_000, 2_000)),
      months: count('months', 6),
      runs,
      seed,
    },
    processor: {
      events: count('events', pick(500_000, 20_000)),
      partitions,
      runs: processorRuns,
      seed: seed + 1,
    },
    restore: {
      sizes: values.restore === undefined ? (quick ? [20_000] : [100_000, 1_000_000]) : sizeList(values.restore),
      runs: restoreRuns,
      seed: seed + 2,
      partitions,
    },
    flush: {
      events: count('flush-events', pick(100_000, 5_000)),
      eventsPerSecond: count('flush-rate', 2_500),
      flushIntervalMs: count('flush-interval-ms', 2_000),
      partitions: count('flush-partitions', 6),
      seed: seed + 3,
    },
    webhooks: {
      stripeRequests: count('webhooks', pick(3_000, 200)),
      segmentBatches: count('segment-batches', pick(100, 10)),
      messagesPerBatch: count('batch-size', 100),
      concurrency: count('concurrency', 16),
      runs,
      partitions,
    },
  };
}

/** `--broker`: "kafka" is KAFKA_BROKERS when set, else a local Apache Kafka. */
function brokerTargets(
  choice: string,
  perScenario: boolean,
  env: Readonly<Record<string, string | undefined>>,
): BrokerTarget[] {
  const external = (env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const kafka: BrokerTarget =
    external.length > 0 ? { kind: 'external', bootstrapServers: external } : { kind: 'apache-kafka', perScenario };
  switch (choice) {
    case 'kafka':
      return [kafka];
    case 'mock':
      return [{ kind: 'mock' }];
    case 'both':
      return [kafka, { kind: 'mock' }];
    default:
      throw new BenchUsageError(`--broker: expected kafka, mock or both, got "${choice}"`);
  }
}

function positiveInteger(name: string, text: string): number {
  const parsed = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new BenchUsageError(`--${name}: expected a positive whole number, got "${text}"`);
  }
  return parsed;
}

function sizeList(text: string): number[] {
  return text.split(',').map((entry) => positiveInteger('restore', entry.trim()));
}

function scenarioList(text: string): ScenarioName[] {
  const wanted = text.split(',').map((entry) => entry.trim());
  const unknown = wanted.filter((entry) => !(scenarioNames as readonly string[]).includes(entry));
  if (unknown.length > 0) {
    throw new BenchUsageError(
      `--only: unknown scenario ${unknown.join(', ')}; choose from ${scenarioNames.join(', ')}`,
    );
  }
  return scenarioNames.filter((name) => wanted.includes(name));
}
