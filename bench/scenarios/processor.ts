import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startProcessorRole } from '../../src/roles/processor-role.js';
import { runReplay } from '../../src/roles/replay.js';
import { topicNames } from '../../src/roles/runtime.js';
import { bareRead, type ReadTiming } from '../kafka/bare-read.js';
import type { BenchBroker } from '../kafka/bench-broker.js';
import type { BenchCluster } from '../kafka/bench-cluster.js';
import { benchEnv, benchLogger, benchRuntime } from '../kafka/bench-runtime.js';
import {
  generateCanonicalRecords,
  produceCanonicalRecords,
  totalBytes,
  type CanonicalTopics,
} from '../kafka/canonical-records.js';
import { watchConsumers } from '../kafka/watched-kafka.js';
import { atLeast, atMost, type Row, type ScenarioReport } from '../report.js';
import { formatCount, formatRate, formatSeconds, formatSpread, spreadOf, type Spread } from '../stats.js';

export interface ProcessorScenarioOptions {
  readonly events: number;
  readonly partitions: number;
  readonly runs: number;
  readonly seed: number;
}

/** One run of the live processor role over the whole topics, in a fresh state generation. */
interface ProcessorRun extends ReadTiming {
  readonly changelogRecords: number;
  readonly profileRecords: number;
  readonly deadLetters: number;
}

/** One `replay --from earliest` (runReplay) into a fresh state generation. */
interface ReplayRun {
  readonly wallSeconds: number;
  /** runReplay's own rate: events from its first batch to the last range read. */
  readonly eventsPerSecond: number;
  readonly events: number;
  readonly entities: number;
  readonly profilesChanged: number;
}

export interface ProcessorScenarioDetails {
  readonly events: number;
  readonly partitions: number;
  readonly meanRecordBytes: number;
  readonly produceSeconds: number;
  readonly bare: { readonly eventsPerSecond: Spread; readonly wallSeconds: Spread };
  readonly processor: {
    readonly eventsPerSecond: Spread;
    readonly wallSeconds: Spread;
    readonly changelogRecordsPerRun: Spread;
    readonly profileRecordsPerRun: Spread;
  };
  readonly replay: {
    readonly wallSeconds: Spread;
    readonly eventsPerSecond: Spread;
    readonly entities: number;
    readonly profilesChangedPerRun: Spread;
  };
  /** processor rate ÷ bare rate, per run. */
  readonly rateRatio: Spread;
  /** replay wall time ÷ bare wall time, per run. */
  readonly wallRatio: Spread;
}

const SESSION_TIMEOUT_MS = 10_000;

/**
 * Scenarios 2 and 3 share their data and their baseline. The events are produced once (as the connectors write
 * them: keyed, gzip, in large batches — see produceCanonicalRecords); then each run reads all of them three times:
 * (a) a bare consumer group that only reads and decodes; (b) the processor role (live mode) with a fresh group,
 * empty state directory and fresh changelog generation, until every event's batch is durable (changelog +
 * profiles acked, offsets committed, LMDB written); (c) `replay --from earliest` (runReplay) into a fresh
 * generation. Scenario 2 compares the steady rates of (b) and (a) (first batch → last event), scenario 3 the wall
 * times of (c) and (a) (start → done: connect, group join, restore check, the replay's final profile pass).
 */
export async function runProcessorScenario(
  options: ProcessorScenarioOptions,
  cluster: BenchCluster,
  log: (line: string) => void,
): Promise<{ processor: ScenarioReport; replay: ScenarioReport }> {
  const broker = await cluster.scenarioBroker();
  try {
    const base = topicNames(broker.prefix, 0);
    const eventTopics = [base.stripeEvents, base.segmentEvents];
    await broker.createTopics([
      { name: base.stripeEvents, partitions: options.partitions },
      { name: base.segmentEvents, partitions: options.partitions },
      { name: base.profiles, partitions: options.partitions, compacted: true },
      { name: base.deadLetters, partitions: 1 },
    ]);
    const { events, bytes, produceSeconds } = await publishEvents(
      broker,
      { stripe: base.stripeEvents, segment: base.segmentEvents },
      options,
      log,
    );
    await assertNothingAgedOut(broker, eventTopics, events);
    log(
      `processor: ${formatCount(events)} events (${(bytes / 2 ** 20).toFixed(0)} MiB of JSON) produced in ${formatSeconds(produceSeconds)} on ${String(options.partitions)} partitions; ${String(options.runs)} runs of bare read, processor and replay`,
    );
    const timeoutMs = Math.max(180_000, events);
    const bare: ReadTiming[] = [];
    const processor: ProcessorRun[] = [];
    const replay: ReplayRun[] = [];
    for (let run = 0; run < options.runs; run++) {
      const read = await bareRead(broker.kafka, eventTopics, events, {
        groupId: `${broker.prefix}bare.${String(run)}`,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        timeoutMs,
      });
      bare.push(read);
      const processed = await processorRun(broker, 2 * run + 1, options.partitions, events, timeoutMs);
      processor.push(processed);
      const replayed = await replayRun(broker, 2 * run + 2, options.partitions, events, timeoutMs);
      replay.push(replayed);
      log(
        `processor: run ${String(run + 1)}: bare ${formatRate(read.records / read.steadySeconds)} (wall ${formatSeconds(read.wallSeconds)}), processor ${formatRate(processed.records / processed.steadySeconds)} (wall ${formatSeconds(processed.wallSeconds)}), replay wall ${formatSeconds(replayed.wallSeconds)} (${formatRate(replayed.eventsPerSecond)})`,
      );
    }
    const details: ProcessorScenarioDetails = {
      events,
      partitions: options.partitions,
      meanRecordBytes: bytes / events,
      produceSeconds,
      bare: {
        eventsPerSecond: spreadOf(bare.map((run) => run.records / run.steadySeconds)),
        wallSeconds: spreadOf(bare.map((run) => run.wallSeconds)),
      },
      processor: {
        eventsPerSecond: spreadOf(processor.map((run) => run.records / run.steadySeconds)),
        wallSeconds: spreadOf(processor.map((run) => run.wallSeconds)),
        changelogRecordsPerRun: spreadOf(processor.map((run) => run.changelogRecords)),
        profileRecordsPerRun: spreadOf(processor.map((run) => run.profileRecords)),
      },
      replay: {
        wallSeconds: spreadOf(replay.map((run) => run.wallSeconds)),
        eventsPerSecond: spreadOf(replay.map((run) => run.eventsPerSecond)),
        entities: replay[0]?.entities ?? 0,
        profilesChangedPerRun: spreadOf(replay.map((run) => run.profilesChanged)),
      },
      rateRatio: spreadOf(
        processor.map(
          (run, i) =>
            run.records / run.steadySeconds / ((bare[i] as ReadTiming).records / (bare[i] as ReadTiming).steadySeconds),
        ),
      ),
      wallRatio: spreadOf(replay.map((run, i) => run.wallSeconds / (bare[i] as ReadTiming).wallSeconds)),
    };
    const deadLetters = processor.reduce((sum, run) => sum + run.deadLetters, 0);
    if (deadLetters > 0) throw new Error(`processor: ${String(deadLetters)} generated events were dead-lettered`);
    return { processor: processorReport(details), replay: replayReport(details) };
  } finally {
    await broker.stop();
  }
}

/**
 * Generates and produces the events; the records are unreachable once it returns, so the process under test does
 * not carry half a million of them in its heap (every major collection would mark them).
 */
async function publishEvents(
  broker: BenchBroker,
  topics: CanonicalTopics,
  options: ProcessorScenarioOptions,
  log: (line: string) => void,
): Promise<{ events: number; bytes: number; produceSeconds: number }> {
  log(`processor: generating ${formatCount(options.events)} canonical events (seed ${String(options.seed)})`);
  const records = generateCanonicalRecords({ seed: options.seed, events: options.events });
  const started = performance.now();
  await produceCanonicalRecords(broker.kafka, topics, records);
  return { events: records.length, bytes: totalBytes(records), produceSeconds: (performance.now() - started) / 1_000 };
}

async function processorRun(
  broker: BenchBroker,
  generation: number,
  partitions: number,
  expected: number,
  timeoutMs: number,
): Promise<ProcessorRun> {
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-bench-'));
  let group = '';
  let firstBatchAt = 0;
  const kafka = watchConsumers(broker.kafka, (groupId, consumer) => {
    consumer.on(consumer.events.START_BATCH_PROCESS, () => {
      if (groupId === group && firstBatchAt === 0) firstBatchAt = performance.now();
    });
  });
  try {
    const runtime = await benchRuntime(broker, { stateDir, generation, kafka });
    group = runtime.processorGroup;
    await broker.createTopics([{ name: runtime.topics.changelog, partitions, compacted: true }]);
    let processed = 0;
    let changelogRecords = 0;
    let profileRecords = 0;
    let deadLetters = 0;
    let finish: (at: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const started = performance.now();
    const role = await startProcessorRole(runtime, {
      observer: {
        batchProcessed: (report) => {
          processed += report.records;
          changelogRecords += report.entities;
          profileRecords += report.profiles;
          deadLetters += report.deadLetters.length;
          if (processed >= expected) finish(performance.now());
        },
      },
    });
    let finishedAt: number;
    try {
      finishedAt = await withTimeout(
        done,
        timeoutMs,
        () => `processor: ${String(processed)} of ${String(expected)} events`,
      );
    } finally {
      await role.stop();
    }
    return {
      records: processed,
      wallSeconds: (finishedAt - started) / 1_000,
      steadySeconds: (finishedAt - firstBatchAt) / 1_000,
      changelogRecords,
      profileRecords,
      deadLetters,
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function replayRun(
  broker: BenchBroker,
  generation: number,
  partitions: number,
  expected: number,
  timeoutMs: number,
): Promise<ReplayRun> {
  // The replay finds its changelog topic ready (and empty) on every broker: the mock cannot create topics through the
  // admin API, and the wall times compare alike only if neither replay creates one.
  await broker.createTopics([{ name: topicNames(broker.prefix, generation).changelog, partitions, compacted: true }]);
  const env = benchEnv(broker, { generation: 0 });
  const started = performance.now();
  const report = await withTimeout(
    runReplay(env, benchLogger, { from: { kind: 'earliest' }, dryRun: false, generation, kafka: broker.kafka }),
    timeoutMs,
    () => `replay into generation ${String(generation)}`,
  );
  const wallSeconds = (performance.now() - started) / 1_000;
  if (report.events !== expected || report.deadLetters > 0) {
    throw new Error(
      `replay: read ${String(report.events)} of ${String(expected)} events, ${String(report.deadLetters)} dead letters`,
    );
  }
  return {
    wallSeconds,
    eventsPerSecond: report.eventsPerSecond,
    events: report.events,
    entities: report.entities,
    profilesChanged: report.profilesChanged,
  };
}

/** The mock drops a partition's oldest data past its size limit: a run must read every record produced. */
async function assertNothingAgedOut(broker: BenchBroker, topics: readonly string[], expected: number): Promise<void> {
  const admin = broker.kafka.admin();
  await admin.connect();
  try {
    let readable = 0;
    for (const topic of topics) {
      for (const partition of await admin.fetchTopicOffsets(topic)) {
        readable += Number(partition.high) - Number(partition.low);
      }
    }
    if (readable !== expected) {
      throw new Error(
        `only ${String(readable)} of ${String(expected)} produced records are readable: the broker dropped old data; raise --partitions`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

export function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what()} after ${String(timeoutMs)} ms`));
    }, timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function processorReport(details: ProcessorScenarioDetails): ScenarioReport {
  const size = `${formatCount(details.events)} events, ${String(details.partitions)} partitions × 2 topics`;
  const rows: Row[] = [
    rateRow(`bare consumer group: events read + decoded/s (JSON.parse + zod; ${size})`, details.bare.eventsPerSecond),
    rateRow(
      'processor: events/s with state, changelog, profiles, offset commits (first batch → last event durable)',
      details.processor.eventsPerSecond,
    ),
    {
      scenario: 'processor',
      figure: 'processor ÷ bare, per run',
      value: details.rateRatio.median,
      unit: 'ratio',
      median: details.rateRatio.median.toFixed(2),
      spread: formatSpread(details.rateRatio, (value) => value.toFixed(2)),
      goal: atLeast(details.rateRatio.median, 0.7, (value) => value.toFixed(1)),
    },
  ];
  return { scenario: 'processor', rows, details };
}

function rateRow(figure: string, spread: Spread): Row {
  return {
    scenario: 'processor',
    figure,
    value: spread.median,
    unit: 'events/s',
    median: formatRate(spread.median),
    spread: formatSpread(spread, formatRate),
    goal: null,
  };
}

function replayReport(details: ProcessorScenarioDetails): ScenarioReport {
  const wallRow = (figure: string, spread: Spread, note = ''): Row => ({
    scenario: 'replay',
    figure,
    value: spread.median,
    unit: 's',
    median: formatSeconds(spread.median),
    spread: `${formatSpread(spread, formatSeconds)}${note}`,
    goal: null,
  });
  const rows: Row[] = [
    wallRow(
      `bare read of both event topics, wall (connect → last of ${formatCount(details.events)})`,
      details.bare.wallSeconds,
    ),
    wallRow(
      `replay --from earliest (runReplay into a fresh generation: new group, empty state dir, new changelog; ${formatCount(details.replay.entities)} entities), wall`,
      details.replay.wallSeconds,
      `; ${formatRate(details.replay.eventsPerSecond.median)} while reading`,
    ),
    {
      scenario: 'replay',
      figure: 'replay ÷ bare read, per run',
      value: details.wallRatio.median,
      unit: 'ratio',
      median: `${details.wallRatio.median.toFixed(2)}×`,
      spread: formatSpread(details.wallRatio, (value) => value.toFixed(2)),
      goal: atMost(details.wallRatio.median, 1.5, (value) => `${value.toFixed(1)}×`),
    },
  ];
  return { scenario: 'replay', rows, details };
}
