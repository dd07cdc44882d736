import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { readTopicToEnd } from '../adapters/kafka/topic-reader.js';
import type { EnvConfig } from '../config/env.js';
import { createEntityStateCodec } from '../domain/state/index.js';
import { FlushEngine, formatDryRunDiff, ProfileKeyMismatchError, type FlushReport } from '../flusher/index.js';
import type { Logger } from '../log/logger.js';
import { Processor, type ProcessorObserver } from '../processor/processor.js';
import { StateStore } from '../processor/state-store.js';
import type { PersonaRegistryEntry } from '../records/persona-registry.js';
import type { PersonaUpdate } from '../records/persona-update.js';
import { readLiveProfiles } from './replay-live-profiles.js';
import { replayRanges, type ReplayFrom } from './replay-ranges.js';
import { eventPartitionCount, prepareTarget, ReplayRefusedError } from './replay-target.js';
import { createRuntime, type Runtime } from './runtime.js';

export interface ReplayOptions {
  readonly from: ReplayFrom;
  /** Rebuild in memory and on local disk only, and print what the flusher would send Mavera. */
  readonly dryRun: boolean;
  /** The generation to build; default STATE_GENERATION + 1. */
  readonly generation?: number;
  /** Local state directory to build and keep (must be empty); default a temporary one, removed at the end. */
  readonly stateDir?: string;
  readonly now?: () => number;
  readonly kafka?: Kafka;
  /** After every batch: events replayed so far and the number to replay. */
  readonly onProgress?: (events: number, total: number) => void;
}

/** What a dry run would send Mavera: the flush engine's dry-run decisions against the last real flush. */
export interface ReplayMaveraDiff {
  /** formatDryRunDiff's text: one block per would-be request, or `no changes`. */
  readonly text: string;
  readonly requests: readonly PersonaUpdate[];
  readonly flush: FlushReport;
  readonly registryEntries: number;
}

export interface ReplayReport {
  readonly generation: number;
  readonly dryRun: boolean;
  readonly group: string;
  readonly changelog: string;
  /** Whether the replay created the changelog topic (undefined for a dry run, which writes nothing). */
  readonly changelogTopic: 'created' | 'existing' | undefined;
  readonly profilesTopic: string;
  /** Input records the replay read (within the ranges), and how many of them were dead letters. */
  readonly events: number;
  readonly deadLetters: number;
  /** Entities in the rebuilt state. */
  readonly entities: number;
  readonly liveProfiles: number;
  /** Rebuilt profiles that differ from (or are missing in) the live table: written, or would be in a dry run. */
  readonly profilesChanged: number;
  /** Live profiles whose entity the rebuild does not have (left as they are). */
  readonly liveProfilesNotRebuilt: number;
  /** Live profile records that could not be decoded (left out of the comparison). */
  readonly liveProfilesUndecodable: number;
  /** The latest partition time reached (event time, or now when the live processor follows the wall clock). */
  readonly stateTime: number | null;
  readonly durationMs: number;
  /** Events per second from the first batch to the last range read. */
  readonly eventsPerSecond: number;
  /** The kept local state directory (--state-dir), else null. */
  readonly stateDir: string | null;
  readonly mavera: ReplayMaveraDiff | undefined;
}

/**
 * `replay`: rebuilds every entity's state from the event topics into state generation N+1 (its own consumer group,
 * changelog topic and local store), reading up to the high watermarks of the moment it starts. Profiles are derived
 * once at the end and compared with the live profiles table; only those that differ are written (none when nothing
 * changed), so the flusher sees exactly the change the new generation brings. The group's committed offsets are
 * the range ends: the live processor switched to N+1 continues from there.
 *
 * A dry run writes nothing to Kafka: it rebuilds into a throwaway group and a temporary store, applies the changed
 * profiles to the live table in a flush engine with the registry of the last real flush, and reports the would-be
 * Mavera requests (none: `no changes`).
 */
export async function runReplay(env: EnvConfig, logger: Logger, options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const current = env.processor.stateGeneration;
  const generation = options.generation ?? current + 1;
  if (!options.dryRun && generation === current) {
    throw new ReplayRefusedError(
      'same_generation',
      `generation ${String(generation)} is the live one (STATE_GENERATION); replay into a fresh one, e.g. --generation ${String(current + 1)}`,
      { generation },
    );
  }
  const keptDir = options.stateDir;
  const stateDir = keptDir ?? mkdtempSync(join(tmpdir(), `persona-stream-replay-g${String(generation)}-`));
  if (keptDir !== undefined) requireEmptyDirectory(keptDir);
  const runtime = await createRuntime(
    { ...env, processor: { ...env.processor, stateGeneration: generation, stateDir } },
    logger,
    {
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.kafka === undefined ? {} : { kafka: options.kafka }),
    },
  );
  const { topics } = runtime;
  const group = options.dryRun ? `${env.kafka.topicPrefix}replay.dry-run.${randomUUID()}` : runtime.processorGroup;
  const admin = runtime.kafka.admin();
  await admin.connect();
  let store: StateStore | undefined;
  try {
    const partitions = await eventPartitionCount(admin, topics.stripeEvents, topics.segmentEvents);
    const eventTopics = [topics.stripeEvents, topics.segmentEvents];
    const changelogTopic = options.dryRun
      ? undefined
      : await prepareTarget(admin, {
          generation,
          group,
          changelog: topics.changelog,
          eventTopics,
          partitions,
          topicPrefix: env.kafka.topicPrefix,
        });
    const ranges = await replayRanges(runtime.kafka, admin, eventTopics, options.from);
    const total = ranges.reduce((sum, range) => sum + Number(BigInt(range.end) - BigInt(range.start)), 0);
    logger.info({ generation, group, dryRun: options.dryRun, total }, 'replay: reading the live profiles table');

    const engine = options.dryRun ? dryRunEngine(runtime, logger) : undefined;
    let liveProfilesUndecodable = 0;
    const live = await readLiveProfiles(
      runtime.kafka,
      admin,
      topics.profiles,
      runtime.serdes.profile,
      (key, record) => {
        if (engine === undefined) return;
        try {
          engine.engine.applyProfile(record, key);
        } catch (error) {
          if (!(error instanceof ProfileKeyMismatchError)) throw error;
          liveProfilesUndecodable++;
        }
      },
    );
    liveProfilesUndecodable += live.undecodable;
    const notRebuilt = new Set(live.hashes.keys());

    // Only a kept store must survive a crash of the machine; a temporary one is deleted at the end anyway.
    store = new StateStore(stateDir);
    let events = 0;
    let deadLetters = 0;
    let profilesChanged = 0;
    let stateTime = Number.NEGATIVE_INFINITY;
    let firstBatchAt: number | undefined;
    let readAt: number | undefined;
    const observer: ProcessorObserver = {
      batchProcessed: (report) => {
        firstBatchAt ??= performance.now() - report.seconds * 1_000;
        readAt = performance.now();
        events += report.records;
        deadLetters += report.deadLetters.length;
        options.onProgress?.(events, total);
      },
      released: (report) => {
        profilesChanged += report.profiles.length;
        for (const profile of report.profiles) {
          engine?.engine.applyProfile(profile, profile.key);
        }
      },
    };
    const processor = new Processor({
      kafka: runtime.kafka,
      topics,
      groupId: group,
      pipeline: runtime.pipeline,
      codec: createEntityStateCodec(runtime.pipeline),
      store,
      serdes: runtime.serdes,
      logger: logger.child({ role: 'replay' }),
      now: runtime.now,
      refreshIntervalMs: env.processor.refreshIntervalMs,
      clockTickMs: 0,
      maxEventTimeSkewMs: env.maxEventTimeSkewMs,
      sessionTimeoutMs: env.sessionTimeoutMs,
      idempotent: env.kafka.idempotent,
      observer,
      replay: {
        ranges,
        profileBaseline: (key) => {
          notRebuilt.delete(key);
          return live.hashes.get(key) ?? 0;
        },
        dryRun: options.dryRun,
        advanceToNow: env.processor.clockTickMs > 0,
      },
    });
    try {
      await processor.start(true);
      await processor.replayed;
    } finally {
      await processor.stop();
    }

    let entities = 0;
    for (let partition = 0; partition < partitions; partition++) {
      entities += store.count(partition);
      const watermark = store.checkpoint(partition)?.watermark;
      if (watermark !== undefined && watermark > stateTime) stateTime = watermark;
    }
    const mavera = engine === undefined ? undefined : await dryRunDiff(runtime, engine);
    const readingMs = firstBatchAt === undefined || readAt === undefined ? 0 : readAt - firstBatchAt;
    const report: ReplayReport = {
      generation,
      dryRun: options.dryRun,
      group,
      changelog: topics.changelog,
      changelogTopic,
      profilesTopic: topics.profiles,
      events,
      deadLetters,
      entities,
      liveProfiles: live.hashes.size,
      profilesChanged,
      liveProfilesNotRebuilt: notRebuilt.size,
      liveProfilesUndecodable,
      stateTime: Number.isFinite(stateTime) ? stateTime : null,
      durationMs: performance.now() - started,
      eventsPerSecond: readingMs > 0 ? (events * 1_000) / readingMs : 0,
      stateDir: keptDir ?? null,
      mavera,
    };
    logger.info({ ...report, mavera: undefined }, 'replay finished');
    return report;
  } finally {
    await admin.disconnect();
    await store?.close();
    if (keptDir === undefined) rmSync(stateDir, { recursive: true, force: true });
  }
}

interface DryRunEngine {
  readonly engine: FlushEngine;
  readonly requests: PersonaUpdate[];
}

/** A flush engine that can only decide: dry run whatever MAVERA_DRY_RUN says, and its records stay in memory. */
function dryRunEngine(runtime: Runtime, logger: Logger): DryRunEngine {
  const requests: PersonaUpdate[] = [];
  const engine = new FlushEngine({
    config: runtime.pipeline.config,
    mavera: { ...runtime.env.mavera, dryRun: true },
    logger: logger.child({ role: 'replay-flush' }),
    outputs: {
      writeRegistry: () => Promise.resolve(),
      writeDeadLetters: () => Promise.resolve(),
      writeAudit: (records) => {
        requests.push(...records);
        return Promise.resolve();
      },
    },
  });
  return { engine, requests };
}

/** The registry of the last real flush, restored from the personas topic, against the rebuilt profiles table. */
async function dryRunDiff(runtime: Runtime, { engine, requests }: DryRunEngine): Promise<ReplayMaveraDiff> {
  const entries: PersonaRegistryEntry[] = [];
  for (const record of await readTopicToEnd(runtime.kafka, runtime.topics.personas, 120_000)) {
    if (record.value !== null) entries.push(await runtime.serdes.registry.decode(record.value));
  }
  engine.restoreRegistry(entries);
  const flush = await engine.flush(runtime.now());
  return { text: formatDryRunDiff(requests), requests, flush, registryEntries: entries.length };
}

function requireEmptyDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true });
  const present = readdirSync(directory);
  if (present.length > 0) {
    throw new ReplayRefusedError(
      'state_dir_not_empty',
      `--state-dir ${directory} is not empty (${String(present.length)} entries): a new generation is built in an empty directory`,
      { stateDir: directory },
    );
  }
}
