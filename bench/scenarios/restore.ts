import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Kafka, Message } from 'kafkajs';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { fnv1a32 } from '../../src/domain/hash.js';
import { EntityStates } from '../../src/domain/pipeline/entity-states.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { encodeEntityState } from '../../src/domain/state/index.js';
import { encodeWatermark, restoreFromChangelog, WATERMARK_KEY } from '../../src/processor/changelog-restorer.js';
import { encodeStored, StateStore } from '../../src/processor/state-store.js';
import { decodeRawInput } from '../../src/sources/raw-input.js';
import { partitionsFor, type BenchBroker } from '../kafka/bench-broker.js';
import type { BenchCluster } from '../kafka/bench-cluster.js';
import { benchLogger } from '../kafka/bench-runtime.js';
import { atMost, type Row, type ScenarioReport } from '../report.js';
import {
  formatCount,
  formatRate,
  formatSeconds,
  formatSpread,
  mean,
  percentile,
  spreadOf,
  type Spread,
} from '../stats.js';

export interface RestoreOptions {
  /** Customers per changelog, e.g. [100_000, 1_000_000]. */
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly seed: number;
  /** At least this many partitions (the mock broker gets more when the data needs them). */
  readonly partitions: number;
}

export interface RestoreSizeResult {
  readonly customers: number;
  readonly partitions: number;
  readonly changelogBytes: number;
  readonly seconds: Spread;
  readonly recordsPerSecond: Spread;
}

export interface RestoreDetails {
  /** The real customer states the changelog values are drawn from. */
  readonly statePool: number;
  readonly meanValueBytes: number;
  readonly p99ValueBytes: number;
  readonly sizes: readonly RestoreSizeResult[];
}

const START = Date.UTC(2026, 0, 1);
const GOAL_SECONDS_PER_MILLION = 60;
/**
 * Bytes per produced batch: near Kafka's max.partition.fetch.bytes (1 MiB, what one fetch hands a consumer that is
 * behind, per partition) and under its default message.max.bytes (1 MiB per batch).
 */
const BATCH_BYTES = 900 * 2 ** 10;

/**
 * Scenario 4: a processor instance assigned partitions whose state it does not hold. The changelog is what the
 * processor would have written after compaction — one record per customer (value: profile hash + the encoded
 * state, drawn from real customer states built by the reducer from generated traffic, so sizes are realistic) plus
 * each partition's watermark record — and restoreFromChangelog reads it into an empty LMDB store, as on assignment.
 */
export async function runRestoreScenario(
  options: RestoreOptions,
  cluster: BenchCluster,
  log: (line: string) => void,
): Promise<ScenarioReport> {
  const pool = customerStatePool(options.seed);
  const sizes = pool.map((value) => value.byteLength);
  log(
    `restore: ${String(pool.length)} real customer states, mean ${mean(sizes).toFixed(0)} B (p99 ${String(percentile(sizes, 0.99))} B) per changelog value`,
  );
  const results: RestoreSizeResult[] = [];
  for (const customers of options.sizes) {
    const broker = await cluster.scenarioBroker();
    try {
      results.push(await restoreSize(broker, customers, pool, options, log));
    } finally {
      await broker.stop();
    }
  }
  const details: RestoreDetails = {
    statePool: pool.length,
    meanValueBytes: mean(sizes),
    p99ValueBytes: percentile(sizes, 0.99),
    sizes: results,
  };
  const rows: Row[] = results.map((result) => {
    const full = result.customers >= 1_000_000;
    return {
      scenario: 'restore',
      figure: `restore ${formatCount(result.customers)} customers' state from the changelog into an empty store (group join included)`,
      value: result.seconds.median,
      unit: 's',
      median: formatSeconds(result.seconds.median),
      // The partitions depend on the broker (the mock's size limit): they go with the figures, not the label.
      spread: `${formatSpread(result.seconds, formatSeconds)}; ${String(result.partitions)} partitions, ${(result.changelogBytes / 2 ** 20).toFixed(0)} MiB, ${formatRate(result.recordsPerSecond.median)}`,
      // Stated for 1M; a smaller restore is mostly the fixed cost of joining a group, so it is not held to it.
      goal: full
        ? atMost((result.seconds.median * 1_000_000) / result.customers, GOAL_SECONDS_PER_MILLION, formatSeconds)
        : null,
    };
  });
  return { scenario: 'restore', rows, details };
}

async function restoreSize(
  broker: BenchBroker,
  customers: number,
  pool: readonly Buffer[],
  options: RestoreOptions,
  log: (line: string) => void,
): Promise<RestoreSizeResult> {
  const changelogBytes =
    Array.from({ length: Math.min(customers, pool.length) }, (_, i) => pool[i] as Buffer).reduce(
      (sum, value) => sum + value.byteLength,
      0,
    ) *
    (customers / Math.min(customers, pool.length));
  const partitions = partitionsFor(broker, changelogBytes, options.partitions);
  const topic = `${broker.prefix}state-changelog.restore`;
  await broker.createTopics([{ name: topic, partitions, compacted: true }]);
  const produceStarted = performance.now();
  await produceChangelog(broker.kafka, topic, partitions, customers, pool);
  log(
    `restore: ${formatCount(customers)} changelog records (${(changelogBytes / 2 ** 20).toFixed(0)} MiB) on ${String(partitions)} partitions produced in ${formatSeconds((performance.now() - produceStarted) / 1_000)}`,
  );
  const seconds: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const directory = mkdtempSync(join(tmpdir(), 'persona-stream-bench-restore-'));
    const store = new StateStore(directory);
    const admin = broker.kafka.admin();
    await admin.connect();
    try {
      const started = performance.now();
      const report = await restoreFromChangelog({
        kafka: broker.kafka,
        admin,
        topic,
        partitions: Array.from({ length: partitions }, (_, partition) => partition),
        store,
        logger: benchLogger,
        groupPrefix: `${broker.prefix}restore.`,
      });
      const elapsed = (performance.now() - started) / 1_000;
      let stored = 0;
      for (let partition = 0; partition < partitions; partition++) stored += store.count(partition);
      if (report.records !== customers || stored !== customers) {
        throw new Error(
          `restore: ${String(report.records)} records read, ${String(stored)} stored, of ${String(customers)} customers`,
        );
      }
      seconds.push(elapsed);
      log(`restore: ${formatCount(customers)} run ${String(run + 1)}: ${formatSeconds(elapsed)}`);
    } finally {
      await admin.disconnect();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return {
    customers,
    partitions,
    changelogBytes,
    seconds: spreadOf(seconds),
    recordsPerSecond: spreadOf(seconds.map((value) => customers / value)),
  };
}

/** Customer states as the processor stores them: encoded by src/domain/state after the reducer built them. */
function customerStatePool(seed: number): Buffer[] {
  const pipeline = createPipeline(parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } }));
  const states = new EntityStates(pipeline, { advanceWithStreamTime: true });
  for (const event of generateTraffic({ seed, customers: 2_000, users: 0, months: 6, start: START })) {
    for (const input of decodeRawInput(event.raw, event.at).inputs) states.apply(input);
  }
  return [...states.customers].map(([id, state]) =>
    encodeStored({ profileHash: fnv1a32(id) | 1, state: encodeEntityState(state, pipeline) }),
  );
}

/**
 * One record per customer, round-robin over the partitions, then each partition's watermark record. A partition's
 * records go in batches of about what one fetch returns (the mock broker hands out one produced batch per fetch,
 * where Kafka hands out up to max.partition.fetch.bytes), a few partitions per request.
 */
async function produceChangelog(
  kafka: Kafka,
  topic: string,
  partitions: number,
  customers: number,
  pool: readonly Buffer[],
): Promise<void> {
  const meanBytes = pool.reduce((sum, value) => sum + value.byteLength, 0) / pool.length;
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / (meanBytes + 40)));
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const perPartition = Math.ceil(customers / partitions);
    const sending = new Set<Promise<unknown>>();
    for (let from = 0; from < perPartition; from += perBatch) {
      for (let first = 0; first < partitions; first += 8) {
        const messages: Message[] = [];
        for (let partition = first; partition < Math.min(partitions, first + 8); partition++) {
          for (let row = from; row < Math.min(perPartition, from + perBatch); row++) {
            const index = row * partitions + partition;
            if (index >= customers) break;
            messages.push({
              key: `customer:cus_bench${index.toString(36).padStart(8, '0')}`,
              value: pool[index % pool.length] as Buffer,
              partition,
            });
          }
        }
        if (messages.length === 0) continue;
        const send: Promise<unknown> = producer.send({ topic, acks: -1, messages }).finally(() => sending.delete(send));
        sending.add(send);
        if (sending.size >= 4) await Promise.race(sending);
      }
    }
    await Promise.all(sending);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: partitions }, (_, partition) => ({
        key: WATERMARK_KEY,
        value: encodeWatermark(START + 180 * 86_400_000),
        partition,
      })),
    });
  } finally {
    await producer.disconnect();
  }
}
