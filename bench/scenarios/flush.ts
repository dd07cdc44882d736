import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import type { Message, PartitionMetadata } from 'kafkajs';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import type { FlushReport } from '../../src/flusher/index.js';
import { startFlusherRole } from '../../src/roles/flusher-role.js';
import { startProcessorRole } from '../../src/roles/processor-role.js';
import { FAKE_MAVERA_KEY, startFakeMavera } from '../../test/support/fake-mavera.js';
import type { BenchBroker } from '../kafka/bench-broker.js';
import type { BenchCluster } from '../kafka/bench-cluster.js';
import { benchRuntime, createRuntimeTopics } from '../kafka/bench-runtime.js';
import { generateCanonicalRecords, type CanonicalRecord } from '../kafka/canonical-records.js';
import { watchConsumers } from '../kafka/watched-kafka.js';
import { atMost, type Row, type ScenarioReport } from '../report.js';
import { formatCount, formatMs, formatRate, percentile } from '../stats.js';

const { CompressionTypes, Partitioners } = kafkajs;

export interface FlushOptions {
  readonly events: number;
  /** Events published per second, in ticks of a quarter second. */
  readonly eventsPerSecond: number;
  readonly flushIntervalMs: number;
  readonly partitions: number;
  readonly seed: number;
}

export interface FlushDetails {
  readonly events: number;
  readonly publishedPerSecond: number;
  readonly flushIntervalMs: number;
  readonly segments: number;
  readonly flushes: number;
  /** Flushes in which at least one segment changed materially (a create or update was decided). */
  readonly materialFlushes: number;
  /** Creates + updates decided, over every flush. */
  readonly materialChanges: number;
  readonly calls: { readonly total: number; readonly list: number; readonly create: number; readonly update: number };
  /** segments × flushes with a material change, + 1 for the adoption listing before the first create. */
  readonly callBound: number;
  readonly stalenessMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** p50/p99 of each stage: ack → processed, → in the flusher's view, → flushed. */
  readonly stagesMs: Readonly<
    Record<'processed' | 'inView' | 'flushed', { readonly p50: number; readonly p99: number }>
  >;
  readonly profileRecords: number;
}

/** Where a published event sits, and when the broker acknowledged it. */
interface Published {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly ackedAt: number;
}

/** After a processor batch: events processed up to `end` on (topic, partition), profiles written up to `profiles`. */
interface Processed {
  readonly end: number;
  readonly profiles: number;
  readonly at: number;
}

/** The flusher had applied profiles up to `end` (exclusive) of a profiles partition at `at`. */
interface Applied {
  readonly end: number;
  readonly at: number;
}

/** An event's staleness and its stages, in ms. */
interface Stages {
  readonly total: number;
  /** Broker ack → the processor batch holding it durable. */
  readonly processed: number;
  /** → the flusher applied the profiles it wrote. */
  readonly inView: number;
  /** → the end of the first flush started after that. */
  readonly flushed: number;
}

/** The two default families of the seeds: revenue tiers (3) and the Segment CDP clusters (4). */
const SEGMENT_FAMILIES = new Set(['revenue_tier', 'cdp_cluster']);
const TICK_MS = 250;
/**
 * Event time here runs about a million times faster than wall time (months of traffic in seconds): with the
 * production refresh period (1 h of event time) every partition would re-derive all its entities many times per
 * second. The longest period the processor accepts keeps refreshes about as rare per event as in production.
 */
const REFRESH_INTERVAL_MS = 31 * 86_400_000;

/**
 * Scenario 5: live traffic through processor → flusher → (fake) Mavera, all in this process on the bench broker.
 * Events are published at a steady rate, keyed as the connectors key them. Every step is timed per event:
 * broker ack → the processor batch that made it durable (and the profiles that batch wrote) → the flusher's
 * profiles consumer applied those profiles → the end of the first flush that started after that. Staleness is that
 * end minus the ack: the time until Mavera holds what the event implies (or the flush decided nothing material
 * changed). Mavera calls are counted by the fake.
 */
export async function runFlushScenario(
  options: FlushOptions,
  cluster: BenchCluster,
  log: (line: string) => void,
): Promise<ScenarioReport> {
  log(`flush: generating ${formatCount(options.events)} canonical events`);
  const records = generateCanonicalRecords({ seed: options.seed, events: options.events });
  const broker = await cluster.scenarioBroker();
  const mavera = await startFakeMavera({ ratePerMinute: 1_000_000 });
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-bench-flush-'));
  try {
    const topics = await createRuntimeTopics(broker, options.partitions);
    const base = parsePipelineConfig({ fx_rates: { eur: 1.08, jpy: 0.0067 } });
    const pipeline = createPipeline({
      ...base,
      segments: base.segments.filter((family) => SEGMENT_FAMILIES.has(family.name)),
    });

    const processed = new Map<string, Processed[]>();
    const profilesWritten = new Map<number, number>();
    const processedCount = new Map<string, number>();
    const applied = new Map<number, Applied[]>();
    const flushes: FlushReport[] = [];
    const profileGroup = `${broker.prefix}flusher.profiles.`;
    const kafka = watchConsumers(broker.kafka, (groupId, consumer) => {
      if (!groupId.startsWith(profileGroup)) return;
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { partition, lastOffset } = event.payload;
        list(applied, partition).push({ end: Number(lastOffset) + 1, at: Date.now() });
      });
    });
    const runtime = await benchRuntime(broker, {
      stateDir,
      generation: 0,
      kafka,
      pipeline,
      env: {
        FLUSH_INTERVAL_MS: String(options.flushIntervalMs),
        MAVERA_API_KEY: FAKE_MAVERA_KEY,
        MAVERA_BASE_URL: mavera.url,
        MAVERA_RATE_LIMIT_PER_MIN: '100000',
        PROCESSOR_REFRESH_INTERVAL_MS: String(REFRESH_INTERVAL_MS),
      },
    });
    const flusher = await startFlusherRole(runtime, {
      onReport: (report) => {
        flushes.push(report);
      },
    });
    const processor = await startProcessorRole(runtime, {
      observer: {
        batchProcessed: (report) => {
          const key = `${report.topic}:${String(report.partition)}`;
          const end = (processedCount.get(key) ?? 0) + report.records;
          processedCount.set(key, end);
          const profiles = (profilesWritten.get(report.partition) ?? 0) + report.profiles;
          profilesWritten.set(report.partition, profiles);
          list(processed, key).push({ end, profiles, at: Date.now() });
        },
      },
    });
    try {
      await waitFor(
        () => processor.processor.ready && flushes.length > 0,
        60_000,
        'the processor and flusher to start',
      );
      log(
        `flush: publishing ${formatCount(records.length)} events at ${formatRate(options.eventsPerSecond)}, FLUSH_INTERVAL_MS=${String(options.flushIntervalMs)}`,
      );
      const publishStarted = Date.now();
      const published = await publishPaced(broker, topics, records, options);
      const publishSeconds = (Date.now() - publishStarted) / 1_000;
      const total = () => [...processedCount.values()].reduce((sum, count) => sum + count, 0);
      await waitFor(() => total() >= records.length, 300_000, 'the processor to process every event');
      const profilesDone = () =>
        [...profilesWritten].every(([partition, count]) => (applied.get(partition)?.at(-1)?.end ?? 0) >= count);
      await waitFor(profilesDone, 120_000, 'the flusher to read every profile');
      const caughtUp = Date.now();
      await waitFor(() => flushes.some((flush) => flush.startedAt >= caughtUp), 120_000, 'a flush over every profile');
      await assertProfilePartitions(broker, topics.profiles, profilesWritten);

      const stages = published.map((event) =>
        stalenessOf(event, processed.get(`${event.topic}:${String(event.partition)}`) ?? [], applied, flushes),
      );
      const staleness = stages.map((stage) => stage.total);
      const stage = (pick: (stages: Stages) => number) => {
        const values = stages.map(pick);
        return { p50: percentile(values, 0.5), p99: percentile(values, 0.99) };
      };
      const material = (flush: FlushReport) => flush.decisions.created + flush.decisions.updated;
      const segments = Math.max(...flushes.map((flush) => flush.segments));
      const materialFlushes = flushes.filter((flush) => material(flush) > 0).length;
      const calls = {
        total: mavera.requests.length,
        list: mavera.requestsTo('GET').length,
        create: mavera.requestsTo('POST').length,
        update: mavera.requestsTo('PATCH').length,
      };
      const details: FlushDetails = {
        events: records.length,
        publishedPerSecond: records.length / publishSeconds,
        flushIntervalMs: options.flushIntervalMs,
        segments,
        flushes: flushes.length,
        materialFlushes,
        materialChanges: flushes.reduce((sum, flush) => sum + material(flush), 0),
        calls,
        // One persona write per segment per flush with a material change, plus the one listing of Mavera's personas
        // a flusher makes before its first create (adoption by name).
        callBound: segments * materialFlushes + 1,
        stalenessMs: {
          p50: percentile(staleness, 0.5),
          p90: percentile(staleness, 0.9),
          p99: percentile(staleness, 0.99),
          max: percentile(staleness, 1),
        },
        stagesMs: {
          processed: stage((entry) => entry.processed),
          inView: stage((entry) => entry.inView),
          flushed: stage((entry) => entry.flushed),
        },
        profileRecords: [...profilesWritten.values()].reduce((sum, count) => sum + count, 0),
      };
      log(
        `flush: ${String(calls.total)} Mavera calls, ${String(details.materialChanges)} material changes in ${String(materialFlushes)} of ${String(flushes.length)} flushes; staleness p50 ${formatMs(details.stalenessMs.p50)}, p99 ${formatMs(details.stalenessMs.p99)}`,
      );
      return { scenario: 'flush', rows: flushRows(details), details };
    } finally {
      await flusher.stop();
      await processor.stop();
    }
  } finally {
    await mavera.close();
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function flushRows(details: FlushDetails): Row[] {
  const calls = details.calls;
  const run = `one run of ${formatCount(details.events)} events at ${formatRate(details.publishedPerSecond)}`;
  const staleness = (label: string, value: number, goal: boolean): Row => ({
    scenario: 'flush',
    figure: `staleness ${label}: event acked → end of the first flush that had its profile (FLUSH_INTERVAL_MS=${String(details.flushIntervalMs)})`,
    value,
    unit: 'ms',
    median: formatMs(value),
    spread: `${run}; p90 ${formatMs(details.stalenessMs.p90)}, max ${formatMs(details.stalenessMs.max)}`,
    goal: goal ? atMost(value, details.flushIntervalMs + 1_000, formatMs) : null,
  });
  return [
    {
      scenario: 'flush',
      figure: 'Mavera calls; bound = segments × flushes with a material change + 1 listing',
      value: calls.total,
      unit: 'calls',
      median: String(calls.total),
      spread: `${run}, ${String(details.flushes)} flushes: ${String(calls.list)} GET list, ${String(calls.create)} POST, ${String(calls.update)} PATCH for ${String(details.materialChanges)} material changes; bound ${String(details.segments)} segments × ${String(details.materialFlushes)} + 1`,
      goal: atMost(calls.total, details.callBound, String),
    },
    staleness('p50', details.stalenessMs.p50, false),
    staleness('p99', details.stalenessMs.p99, true),
  ];
}

/**
 * The end of the first flush that started once the flusher held everything `event` implies: its processor batch
 * durable, and every profile that batch (and earlier ones of its partition) wrote applied by the flusher.
 */
function stalenessOf(
  event: Published,
  processed: readonly Processed[],
  applied: ReadonlyMap<number, readonly Applied[]>,
  flushes: readonly FlushReport[],
): Stages {
  const batch = processed[firstIndex(processed, (entry) => entry.end > event.offset)];
  if (batch === undefined)
    throw new Error(
      `flush: no processor batch covered ${event.topic}:${String(event.partition)}@${String(event.offset)}`,
    );
  let inView = batch.at;
  if (batch.profiles > 0) {
    const reads = applied.get(event.partition) ?? [];
    const read = reads[firstIndex(reads, (entry) => entry.end >= batch.profiles)];
    if (read === undefined)
      throw new Error(`flush: the flusher never read profiles partition ${String(event.partition)}`);
    inView = Math.max(inView, read.at);
  }
  const flush = flushes[firstIndex(flushes, (entry) => entry.startedAt >= inView)];
  if (flush === undefined) throw new Error('flush: no flush after the last profile was read');
  return {
    total: flush.finishedAt - event.ackedAt,
    processed: batch.at - event.ackedAt,
    inView: inView - batch.at,
    flushed: flush.finishedAt - inView,
  };
}

/** The first index whose entry satisfies `reached` in a list where it holds from some index on. */
function firstIndex<T>(entries: readonly T[], reached: (entry: T) => boolean): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (reached(entries[middle] as T)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * Publishes the records in order at the configured rate (a tick’s worth every 250 ms), keyed and partitioned as the
 * connectors' publisher does (kafkajs' default partitioner, gzip, acks=all); each record's offset comes from the
 * broker's answer.
 */
async function publishPaced(
  broker: BenchBroker,
  topics: { readonly stripeEvents: string; readonly segmentEvents: string },
  records: readonly CanonicalRecord[],
  options: FlushOptions,
): Promise<Published[]> {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: options.partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  const producer = broker.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const published: Published[] = [];
  try {
    const perTick = Math.max(1, Math.round((options.eventsPerSecond * TICK_MS) / 1_000));
    const started = Date.now();
    for (let tick = 0; tick * perTick < records.length; tick++) {
      const wait = started + tick * TICK_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const chunk = records.slice(tick * perTick, (tick + 1) * perTick);
      const byTopic = new Map<string, Map<number, Message[]>>();
      for (const record of chunk) {
        const topic = record.source === 'stripe' ? topics.stripeEvents : topics.segmentEvents;
        const message: Message = { key: record.key, value: record.value };
        const partition = partitioner({ topic, partitionMetadata, message });
        const partitions = byTopic.get(topic) ?? new Map<number, Message[]>();
        byTopic.set(topic, partitions);
        const messages = partitions.get(partition) ?? [];
        partitions.set(partition, messages);
        messages.push({ ...message, partition });
      }
      const results = await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.GZIP,
        topicMessages: [...byTopic].map(([topic, partitions]) => ({
          topic,
          messages: [...partitions.values()].flat(),
        })),
      });
      const ackedAt = Date.now();
      for (const [topic, partitions] of byTopic) {
        for (const [partition, messages] of partitions) {
          const result = results.find((entry) => entry.topicName === topic && entry.partition === partition);
          if (result?.baseOffset === undefined) throw new Error(`flush: no offset for ${topic}:${String(partition)}`);
          const base = Number(result.baseOffset);
          messages.forEach((_, i) => published.push({ topic, partition, offset: base + i, ackedAt }));
        }
      }
    }
    return published;
  } finally {
    await producer.disconnect();
  }
}

/** The processor writes an event partition's profiles to the same profiles partition: staleness relies on it. */
async function assertProfilePartitions(
  broker: BenchBroker,
  topic: string,
  written: ReadonlyMap<number, number>,
): Promise<void> {
  const admin = broker.kafka.admin();
  await admin.connect();
  try {
    for (const entry of await admin.fetchTopicOffsets(topic)) {
      const expected = written.get(entry.partition) ?? 0;
      if (Number(entry.high) !== expected) {
        throw new Error(
          `flush: profiles partition ${String(entry.partition)} holds ${entry.high} records, the processor reported ${String(expected)} for it`,
        );
      }
    }
  } finally {
    await admin.disconnect();
  }
}

function list<K, V>(map: Map<K, V[]>, key: K): V[] {
  let entries = map.get(key);
  if (entries === undefined) {
    entries = [];
    map.set(key, entries);
  }
  return entries;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`flush: timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
