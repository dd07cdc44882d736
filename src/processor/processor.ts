import type {
  Admin,
  Consumer,
  EachBatchPayload,
  Kafka,
  Message,
  Producer,
  RecordMetadata,
  TopicMessages,
} from 'kafkajs';
import { coPartitionedAssigner } from '../adapters/kafka/co-partitioned-assigner.js';
import type { RecordSerde } from '../adapters/kafka/record-serde.js';
import type { Pipeline } from '../domain/pipeline/pipeline.js';
import type { Logger } from '../log/logger.js';
import type { CanonicalEvent } from '../records/canonical-event.js';
import type { DeadLetter } from '../records/dead-letter.js';
import type { ProfileRecord } from '../records/profile-record.js';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from '../sources/event-time-bounds.js';
import { encodeWatermark, restoreFromChangelog, WATERMARK_KEY, type RestoreReport } from './changelog-restorer.js';
import {
  PartitionProcessor,
  type BatchOutcome,
  type EntityStateCodec,
  type InputRecord,
  type PartitionProcessorOptions,
} from './partition-processor.js';
import { checkpointOf, encodeStored, type InputPositions, type StateStore } from './state-store.js';

export interface ProcessorTopics {
  readonly stripeEvents: string;
  readonly segmentEvents: string;
  readonly changelog: string;
  readonly profiles: string;
  readonly deadLetters: string;
}

/** What the processor reports as it works (metrics, tests). Every callback is optional. */
export interface ProcessorObserver {
  batchProcessed?(report: {
    topic: string;
    partition: number;
    records: number;
    profiles: number;
    /** Changed profiles by kind (customer, user). */
    profileKinds: { customer: number; user: number };
    deadLetters: readonly DeadLetter[];
    entities: number;
    seconds: number;
    watermark: number;
    lag: number;
  }): void;
  restored?(report: RestoreReport): void;
  assigned?(partitions: readonly number[]): void;
  /** A replay's end: profiles of the partition that differ from the live table (written, or not in a dry run). */
  released?(report: { partition: number; profiles: readonly ProfileRecord[]; entities: number }): void;
}

/** The offsets of one input topic-partition a replay reads: from `start` up to (excluding) `end`. */
export interface ReplayRange {
  readonly topic: string;
  readonly partition: number;
  readonly start: string;
  readonly end: string;
}

/**
 * A bounded run into a fresh state generation (`replay`): the group (which must have no committed offsets) reads
 * exactly `ranges` into the local store only; once every range is read, each partition's entities are derived
 * once, every entity goes to the changelog and each profile that differs from `profileBaseline` to the profiles
 * topic, the range ends are committed, and `replayed` resolves. A replay that stops half-way leaves a generation
 * that is not used (a new replay takes the next one), so nothing is made durable on the way: no per-batch changelog
 * or commit round trips. Dead letters are counted but not written again: the live run already wrote them.
 */
export interface ProcessorReplay {
  readonly ranges: readonly ReplayRange[];
  readonly profileBaseline: (key: string) => number;
  /** Nothing goes to Kafka (no changelog, profiles or commits); the local store is still written. */
  readonly dryRun: boolean;
  /** Before the profiles are derived, move every partition's time to now (as the live processor's clock tick does). */
  readonly advanceToNow: boolean;
}

/** The replay's group lost partitions to another member: its ranges can no longer be read to their end. */
export class ReplayAssignmentError extends Error {
  constructor(
    readonly groupId: string,
    readonly missing: readonly number[],
  ) {
    super(
      `the replay's consumer group ${groupId} did not assign partitions ${missing.join(',')} to the replay: ` +
        'another member joined it; run the replay alone in a fresh group',
    );
    this.name = 'ReplayAssignmentError';
  }
}

/** Entities derived per page at the end of a replay (one changelog/profiles write per page). */
const RELEASE_PAGE = 2_000;

export interface ProcessorOptions {
  readonly kafka: Kafka;
  readonly topics: ProcessorTopics;
  readonly groupId: string;
  readonly pipeline: Pipeline;
  readonly codec: EntityStateCodec;
  readonly store: StateStore;
  readonly serdes: {
    readonly event: RecordSerde<CanonicalEvent>;
    readonly profile: RecordSerde<ProfileRecord>;
    readonly deadLetter: RecordSerde<DeadLetter>;
  };
  readonly logger: Logger;
  readonly now: () => number;
  /** Event-time period after which untouched entities are re-evaluated (inactivity, windows). */
  readonly refreshIntervalMs: number;
  /**
   * MAX_EVENT_TIME_SKEW_MS: how far past the earlier of its publish time and the wall clock a record's event time
   * may lie; a record beyond it is dead-lettered. Default DEFAULT_MAX_EVENT_TIME_SKEW_MS.
   */
  readonly maxEventTimeSkewMs?: number;
  /** How often an idle, caught-up partition's time follows the wall clock; 0 turns the tick off. */
  readonly clockTickMs: number;
  readonly sessionTimeoutMs?: number;
  readonly observer?: ProcessorObserver;
  /** A bounded replay run instead of the live, endless one. */
  readonly replay?: ProcessorReplay;
  /** An idempotent producer (default); false only for a broker that cannot hand out producer ids (KAFKA_IDEMPOTENT). */
  readonly idempotent?: boolean;
}

/**
 * The stateful processor: a consumer group over both event topics, the domain reducer per entity key, state in the
 * local store and in the compacted changelog. Per batch, in this order: the changelog records, changed profiles and
 * dead letters are acknowledged by the broker, then the input offsets are committed, then the local store is
 * written with its checkpoint. The changelog's states carry the input offsets they hold (in the watermark record of
 * the same record batch), so a crash between the acknowledgement and the commit re-delivers records that the
 * restored state skips rather than applies again: exactly-once effect on state, whatever their event time.
 */
export class Processor {
  private readonly consumer: Consumer;
  private producer: Producer;
  /** The last write failed: the producer's sequence numbers may disagree with the broker's (see send()). */
  private producerStale = false;
  private readonly admin: Admin;
  private readonly partitions = new Map<number, PartitionProcessor>();
  private readonly locks = new Map<number, Promise<unknown>>();
  private readonly lastActivity = new Map<number, number>();
  private readonly caughtUp = new Set<number>();
  private restoring: Promise<void> = Promise.resolve();
  /** The write in flight: partitions' batches run side by side, their writes one after another. */
  private sending: Promise<unknown> = Promise.resolve();
  private restoringCount = 0;
  private assignedOnce = false;
  private tick: NodeJS.Timeout | undefined;
  private crashed: Error | undefined;
  /** Replay: `topic:partition` → range end, for the ranges not read to their end yet. */
  private readonly replayEnds = new Map<string, bigint>();
  /** Replay: `topic:partition` → next offset to read (re-seeked after a consumer restart). */
  private readonly replayPositions = new Map<string, bigint>();
  private replayFinishing = false;
  private settleReplay: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** Resolves when a replay run has read its ranges and written its profiles; never settles for a live run. */
  readonly replayed: Promise<void>;

  constructor(private readonly options: ProcessorOptions) {
    this.replayed = new Promise<void>((resolve, reject) => {
      this.settleReplay = { resolve, reject };
    });
    // A live run never settles it; a failed replay rejects it, and the caller may not be awaiting yet.
    this.replayed.catch(() => undefined);
    for (const range of options.replay?.ranges ?? []) {
      const key = rangeKey(range.topic, range.partition);
      this.replayPositions.set(key, BigInt(range.start));
      if (BigInt(range.start) < BigInt(range.end)) this.replayEnds.set(key, BigInt(range.end));
    }
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      retry: { retries: 10 },
      // Partition p of both event topics must belong to one member: they share state partition p.
      partitionAssigners: [coPartitionedAssigner],
    });
    this.producer = this.createProducer();
    this.admin = options.kafka.admin();
  }

  /** The kafkajs consumer, for health tracking (heartbeats, crashes, rebalances). */
  get kafkaConsumer(): Consumer {
    return this.consumer;
  }

  /** Ready: joined the group, partitions assigned, and no restore in progress. */
  get ready(): boolean {
    return this.assignedOnce && this.restoringCount === 0 && this.crashed === undefined;
  }

  get assignedPartitions(): readonly number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  watermarkOf(partition: number): number | undefined {
    return this.partitions.get(partition)?.watermark;
  }

  async start(fromBeginning = true): Promise<void> {
    await Promise.all([this.producer.connect(), this.admin.connect(), this.consumer.connect()]);
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment;
      this.options.logger.info({ assignment }, 'partitions assigned');
      const assigned = new Set<number>();
      for (const topic of [this.options.topics.stripeEvents, this.options.topics.segmentEvents]) {
        for (const partition of assignment[topic] ?? []) assigned.add(partition);
      }
      this.onAssignment(assigned);
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const error = event.payload.error;
      this.crashed = error;
      this.options.logger.error({ err: error, restart: event.payload.restart }, 'processor consumer crashed');
      if (event.payload.restart) this.crashed = undefined;
      else this.settleReplay?.reject(error);
    });
    await this.consumer.subscribe({
      topics: [this.options.topics.stripeEvents, this.options.topics.segmentEvents],
      fromBeginning,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(payload),
    });
    if (this.options.clockTickMs > 0 && this.options.replay === undefined) {
      this.tick = setInterval(() => {
        void this.onClockTick();
      }, this.options.clockTickMs);
      this.tick.unref();
    }
  }

  /** Drain: stop fetching, let the batch in hand finish and persist, commit, leave the group. */
  async stop(): Promise<void> {
    if (this.tick !== undefined) clearInterval(this.tick);
    await this.consumer.stop();
    await Promise.all([...this.locks.values()].map((lock) => lock.catch(() => undefined)));
    await this.consumer.disconnect();
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
  }

  private onAssignment(assigned: ReadonlySet<number>): void {
    if (this.options.replay !== undefined) {
      this.onReplayAssignment(assigned, this.options.replay);
      return;
    }
    this.assignedOnce = true;
    for (const partition of [...this.partitions.keys()]) {
      if (!assigned.has(partition)) {
        // Revoked: kafkajs finished the batch in hand before rejoining; the store keeps the state, checkpointed.
        this.partitions.delete(partition);
        this.caughtUp.delete(partition);
      }
    }
    const added = [...assigned].filter((partition) => !this.partitions.has(partition)).sort((a, b) => a - b);
    this.options.observer?.assigned?.([...assigned].sort((a, b) => a - b));
    if (added.length === 0) return;
    this.restoringCount += 1;
    const previous = this.restoring;
    this.restoring = previous
      .catch(() => undefined)
      .then(async () => {
        const report = await restoreFromChangelog({
          kafka: this.options.kafka,
          admin: this.admin,
          topic: this.options.topics.changelog,
          partitions: added,
          store: this.options.store,
          logger: this.options.logger,
          groupPrefix: `${this.options.groupId}.`,
        });
        this.options.observer?.restored?.(report);
        for (const partition of added) {
          const checkpoint = this.options.store.checkpoint(partition);
          this.warnIfAhead(partition, checkpoint?.watermark);
          this.partitions.set(
            partition,
            this.partitionProcessor(partition, { watermark: checkpoint?.watermark ?? Number.NEGATIVE_INFINITY }),
          );
        }
      })
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, partitions: added }, 'state restore failed');
        throw error;
      })
      .finally(() => {
        this.restoringCount -= 1;
      });
    // A failed restore fails the next batch, which awaits it (kafkajs then restarts the consumer and the restore is
    // tried again); until that batch comes it is not an unhandled rejection.
    this.restoring.catch(() => undefined);
  }

  /**
   * A watermark restored from beyond the wall clock was let through by an older version (this one dead-letters such
   * records): every profile of the partition would be judged at that time until it is repaired.
   */
  private warnIfAhead(partition: number, watermark: number | undefined): void {
    const latest = this.options.now() + this.maxEventTimeSkewMs;
    if (watermark === undefined || watermark <= latest) return;
    this.options.logger.error(
      { partition, watermark, latest },
      `the restored watermark of partition ${String(partition)} is ahead of the wall clock: profiles are judged at ` +
        `that time until it is repaired (persona-stream repair-watermark --partition ${String(partition)} --to now)`,
    );
  }

  private get maxEventTimeSkewMs(): number {
    return this.options.maxEventTimeSkewMs ?? DEFAULT_MAX_EVENT_TIME_SKEW_MS;
  }

  private partitionProcessor(
    partition: number,
    specific: Pick<PartitionProcessorOptions, 'watermark' | 'holdProfiles' | 'profileBaseline'>,
  ): PartitionProcessor {
    return new PartitionProcessor({
      partition,
      pipeline: this.options.pipeline,
      codec: this.options.codec,
      store: this.options.store,
      decodeEvent: (value) => this.options.serdes.event.decode(value),
      refreshIntervalMs: this.options.refreshIntervalMs,
      maxEventTimeSkewMs: this.maxEventTimeSkewMs,
      ...specific,
    });
  }

  /** A replay reads a fresh store: no restore; every partition starts (or, after a restart, resumes) at its range. */
  private onReplayAssignment(assigned: ReadonlySet<number>, replay: ProcessorReplay): void {
    this.assignedOnce = true;
    const missing = [...new Set(replay.ranges.map((range) => range.partition))].filter((p) => !assigned.has(p));
    if (missing.length > 0) {
      this.settleReplay?.reject(
        new ReplayAssignmentError(
          this.options.groupId,
          missing.sort((a, b) => a - b),
        ),
      );
      return;
    }
    for (const partition of [...assigned].sort((a, b) => a - b)) {
      if (this.partitions.has(partition)) continue;
      this.partitions.set(
        partition,
        this.partitionProcessor(partition, {
          watermark: Number.NEGATIVE_INFINITY,
          holdProfiles: true,
          profileBaseline: replay.profileBaseline,
        }),
      );
    }
    this.options.observer?.assigned?.([...assigned].sort((a, b) => a - b));
    for (const range of replay.ranges) {
      // A range already read (or empty) is placed at its end: nothing of it is fetched again.
      const key = rangeKey(range.topic, range.partition);
      const offset = this.replayEnds.has(key) ? (this.replayPositions.get(key) ?? BigInt(range.start)) : range.end;
      this.consumer.seek({ topic: range.topic, partition: range.partition, offset: offset.toString() });
    }
    void this.finishReplayIfRead();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    if (this.options.replay !== undefined) {
      await this.onReplayBatch(payload);
      return;
    }
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    // A partition just assigned is usable only once its state is restored; keep the membership alive meanwhile.
    while (this.restoringCount > 0) {
      await Promise.race([this.restoring.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000))]);
      await payload.heartbeat();
    }
    await this.restoring;
    if (!payload.isRunning() || payload.isStale()) return;
    const partition = batch.partition;
    const processor = this.partitions.get(partition);
    if (processor === undefined) return;
    await this.withLock(partition, async () => {
      const started = performance.now();
      const records: InputRecord[] = batch.messages.map((message) => ({
        topic: batch.topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        timestamp: message.timestamp,
      }));
      const lag = Number(batch.offsetLag());
      const caughtUp = lag === 0;
      const outcome = await processor.process(records, this.options.now(), caughtUp);
      if (outcome.skipped > 0) {
        this.options.logger.info(
          { topic: batch.topic, partition, skipped: outcome.skipped, firstOffset: batch.firstOffset() },
          'skipped input records whose effect the restored state already holds',
        );
      }
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await this.persist(partition, outcome, [{ topic: batch.topic, partition, offset: next }], payload);
      payload.resolveOffset(batch.lastOffset());
      this.lastActivity.set(partition, this.options.now());
      if (caughtUp) this.caughtUp.add(partition);
      else this.caughtUp.delete(partition);
      this.options.observer?.batchProcessed?.({
        topic: batch.topic,
        partition,
        records: records.length,
        profiles: outcome.profiles.length,
        profileKinds: {
          customer: outcome.profiles.filter((profile) => profile.kind === 'customer').length,
          user: outcome.profiles.filter((profile) => profile.kind === 'user').length,
        },
        deadLetters: outcome.deadLetters,
        entities: outcome.entities.size,
        seconds: (performance.now() - started) / 1_000,
        watermark: outcome.watermark,
        lag,
      });
    });
    await payload.heartbeat();
  }

  /** A replay batch: only the records before the range's end count; a range read to its end pauses. */
  private async onReplayBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const key = rangeKey(batch.topic, batch.partition);
    const end = this.replayEnds.get(key);
    if (end === undefined) {
      this.consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
      return;
    }
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const partition = batch.partition;
    const processor = this.partitions.get(partition);
    if (processor === undefined) return;
    let count = batch.messages.length;
    while (count > 0 && BigInt(batch.messages[count - 1]?.offset ?? '0') >= end) count--;
    let reachedEnd = count < batch.messages.length;
    if (count > 0) {
      await this.withLock(partition, async () => {
        const started = performance.now();
        const records: InputRecord[] = [];
        for (let i = 0; i < count; i++) {
          const message = batch.messages[i];
          if (message === undefined) continue;
          records.push({
            topic: batch.topic,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            timestamp: message.timestamp,
          });
        }
        const lastOffset = records[records.length - 1]?.offset ?? batch.firstOffset() ?? '0';
        const next = BigInt(lastOffset) + 1n;
        const outcome = await processor.process(records, this.options.now(), false);
        this.options.store.write(partition, outcome.entities, { changelogOffset: '0', watermark: outcome.watermark });
        payload.resolveOffset(lastOffset);
        this.replayPositions.set(key, next);
        if (next >= end) reachedEnd = true;
        this.options.observer?.batchProcessed?.({
          topic: batch.topic,
          partition,
          records: records.length,
          profiles: 0,
          profileKinds: { customer: 0, user: 0 },
          deadLetters: outcome.deadLetters,
          entities: outcome.entities.size,
          seconds: (performance.now() - started) / 1_000,
          watermark: outcome.watermark,
          lag: Number(end - next),
        });
      });
    }
    if (reachedEnd) {
      this.replayEnds.delete(key);
      this.consumer.pause([{ topic: batch.topic, partitions: [partition] }]);
      // Not awaited: the consumer keeps heartbeating (every partition paused) while the profiles are derived.
      void this.finishReplayIfRead();
    }
    await payload.heartbeat();
  }

  /** Once every range is read: each partition's profiles derived and written, range ends committed, done. */
  private async finishReplayIfRead(): Promise<void> {
    const replay = this.options.replay;
    if (replay === undefined || this.replayEnds.size > 0 || this.replayFinishing || !this.assignedOnce) return;
    this.replayFinishing = true;
    try {
      for (const [partition, processor] of [...this.partitions].sort(([a], [b]) => a - b)) {
        await this.withLock(partition, async () => {
          if (replay.advanceToNow) processor.advanceTo(this.options.now());
          let after: string | undefined;
          do {
            const page = processor.release(after, RELEASE_PAGE);
            await this.persistReleased(partition, page.outcome, replay.dryRun);
            this.options.observer?.released?.({
              partition,
              profiles: page.outcome.profiles,
              entities: page.outcome.entities.size,
            });
            after = page.last;
          } while (after !== undefined);
        });
      }
      if (!replay.dryRun && replay.ranges.length > 0) {
        // Also the ranges that held no record: the next generation's processor continues exactly here.
        await this.consumer.commitOffsets(
          replay.ranges.map((range) => ({ topic: range.topic, partition: range.partition, offset: range.end })),
        );
      }
      this.settleReplay?.resolve();
    } catch (error) {
      this.settleReplay?.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async onClockTick(): Promise<void> {
    const now = this.options.now();
    for (const [partition, processor] of this.partitions) {
      if (!this.caughtUp.has(partition)) continue;
      if (now - (this.lastActivity.get(partition) ?? 0) < this.options.clockTickMs) continue;
      if (now <= processor.watermark) continue;
      try {
        await this.withLock(partition, async () => {
          if (this.partitions.get(partition) !== processor) return;
          await this.persist(partition, processor.advanceTo(now), []);
        });
      } catch (error) {
        this.options.logger.warn({ err: error, partition }, 'clock tick could not be persisted; retried next tick');
      }
    }
  }

  /** A replay's page of derived entities: each entity and the partition's time to the changelog, changed profiles. */
  private async persistReleased(partition: number, outcome: BatchOutcome, dryRun: boolean): Promise<void> {
    const { topics, store } = this.options;
    let changelogOffset = store.checkpoint(partition)?.changelogOffset ?? '0';
    if (!dryRun && outcome.entities.size > 0) {
      const changelog: Message[] = [];
      for (const [key, entity] of outcome.entities) changelog.push({ key, value: encodeStored(entity), partition });
      if (Number.isFinite(outcome.watermark)) {
        changelog.push({ key: WATERMARK_KEY, value: encodeWatermark(outcome.watermark), partition });
      }
      const topicMessages: TopicMessages[] = [{ topic: topics.changelog, messages: changelog }];
      if (outcome.profiles.length > 0) {
        topicMessages.push({ topic: topics.profiles, messages: await this.profileMessages(outcome, partition) });
      }
      const results = await this.send(topicMessages);
      const base = results.find((result) => result.topicName === topics.changelog && result.partition === partition);
      changelogOffset = (BigInt(base?.baseOffset ?? '0') + BigInt(changelog.length)).toString();
    }
    store.write(partition, outcome.entities, { changelogOffset, watermark: outcome.watermark });
  }

  /** The batch's changed profiles as records of the profiles table, on the batch's partition. */
  private profileMessages(outcome: BatchOutcome, partition: number): Promise<Message[]> {
    const { serdes } = this.options;
    return Promise.all(
      outcome.profiles.map(async (profile) => ({
        key: profile.key,
        value: await serdes.profile.encode(profile),
        partition,
      })),
    );
  }

  /** Changelog, profiles and dead letters acknowledged → offsets committed → local store and checkpoint written. */
  private async persist(
    partition: number,
    outcome: BatchOutcome,
    commits: readonly { topic: string; partition: number; offset: string }[],
    batchPayload?: EachBatchPayload,
  ): Promise<void> {
    const { topics, serdes, store } = this.options;
    const changelog: Message[] = [];
    for (const [key, entity] of outcome.entities) changelog.push({ key, value: encodeStored(entity), partition });
    const previous = store.checkpoint(partition);
    const inputs = outcome.inputs ?? previous?.inputs;
    const watermarkMoved = previous === undefined || previous.watermark !== outcome.watermark;
    const inputsMoved = outcome.inputs !== undefined && !samePositions(outcome.inputs, previous?.inputs);
    if ((watermarkMoved && Number.isFinite(outcome.watermark)) || inputsMoved) {
      // Last, in the same record batch as the states it describes: the changelog never claims input it lacks.
      changelog.push({ key: WATERMARK_KEY, value: encodeWatermark(outcome.watermark, inputs), partition });
    }
    const topicMessages: TopicMessages[] = [];
    if (changelog.length > 0) topicMessages.push({ topic: topics.changelog, messages: changelog });
    if (outcome.profiles.length > 0) {
      topicMessages.push({ topic: topics.profiles, messages: await this.profileMessages(outcome, partition) });
    }
    if (outcome.deadLetters.length > 0) {
      topicMessages.push({
        topic: topics.deadLetters,
        messages: await Promise.all(
          outcome.deadLetters.map(async (letter) => ({
            key: letter.key,
            value: await serdes.deadLetter.encode(letter),
            headers: { reason: letter.error_code },
          })),
        ),
      });
    }
    let changelogOffset = previous?.changelogOffset ?? '0';
    if (topicMessages.length > 0) {
      const results = await this.send(topicMessages);
      // This instance is the partition's only writer, so its records are contiguous from the lowest base offset.
      const bases = results
        .filter((result) => result.topicName === topics.changelog && result.partition === partition)
        .map((result) => BigInt(result.baseOffset ?? '0'));
      if (bases.length > 0 && changelog.length > 0) {
        const lowest = bases.reduce((a, b) => (a < b ? a : b));
        changelogOffset = (lowest + BigInt(changelog.length)).toString();
      }
    }
    if (commits.length > 0) {
      // A batch commits through its own payload: once stop() has begun, kafkajs' consumer.commitOffsets silently
      // does nothing, and the batches a drain finishes would be persisted but left uncommitted.
      if (batchPayload === undefined) await this.consumer.commitOffsets([...commits]);
      else {
        await batchPayload.commitOffsetsIfNecessary({
          topics: commits.map(({ topic, partition: p, offset }) => ({ topic, partitions: [{ partition: p, offset }] })),
        });
      }
    }
    store.write(partition, outcome.entities, checkpointOf(changelogOffset, outcome.watermark, inputs));
  }

  /**
   * Idempotent: a write retried after a lost acknowledgement is appended once, and in order. Retries are unlimited
   * (kafkajs' default for it, so no warning about limited ones): a batch waits out a broker outage rather than
   * failing, bounded by the drain deadline on SIGTERM and by the liveness check (no heartbeat); after a restart,
   * restore resumes from the changelog. Limited retries would fail a write the broker may have appended, see send().
   */
  private createProducer(): Producer {
    return this.options.kafka.producer({
      allowAutoTopicCreation: false,
      maxInFlightRequests: 1,
      ...((this.options.idempotent ?? true) ? { idempotent: true } : { retry: { retries: 5 } }),
    });
  }

  /**
   * One write at a time. kafkajs winds a failed request's sequence numbers back, although the broker may have
   * appended it, and retries it with them; a write sent in between would take them and could be acknowledged as a
   * duplicate without being written. A write that fails for good leaves the producer suspect: the next one goes
   * through a new producer, with a new producer id.
   */
  private send(topicMessages: TopicMessages[]): Promise<RecordMetadata[]> {
    const next = this.sending
      .catch(() => undefined)
      .then(async () => {
        if (this.producerStale) {
          await this.producer.disconnect().catch(() => undefined);
          this.producer = this.createProducer();
          await this.producer.connect();
          this.producerStale = false;
        }
        try {
          return await this.producer.sendBatch({ topicMessages, acks: -1, timeout: 30_000 });
        } catch (error) {
          this.producerStale = this.options.idempotent ?? true;
          throw error;
        }
      });
    this.sending = next;
    return next;
  }

  private async withLock<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(partition) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.locks.set(partition, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(partition) === next) this.locks.delete(partition);
    }
  }
}

function rangeKey(topic: string, partition: number): string {
  return `${topic}:${String(partition)}`;
}

function samePositions(a: InputPositions, b: InputPositions | undefined): boolean {
  if (b === undefined) return false;
  const topics = Object.keys(a);
  return topics.length === Object.keys(b).length && topics.every((topic) => a[topic] === b[topic]);
}
