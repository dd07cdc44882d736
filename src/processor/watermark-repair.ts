import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka, Message } from 'kafkajs';
import { RecordDecodeError, type RecordSerde } from '../adapters/kafka/record-serde.js';
import type { Pipeline } from '../domain/pipeline/pipeline.js';
import { createEntityStateCodec } from '../domain/state/index.js';
import type { EpochMs } from '../domain/time.js';
import type { Logger } from '../log/logger.js';
import type { ProfileRecord } from '../records/profile-record.js';
import { EARLIEST_EVENT_TIME } from '../sources/event-time-bounds.js';
import { encodeWatermark, restoreFromChangelog, WATERMARK_KEY } from './changelog-restorer.js';
import { readPartition } from './partition-reader.js';
import { encodeStored, StateStore, type InputPositions } from './state-store.js';
import { repairEntity, type RepairContext } from './watermark-repair-plan.js';

/** Entities rewritten per write (changelog and profiles records of one produce request). */
const PAGE = 200;

/** What the repair works with: the live generation's topics and group, as the processor role has them. */
export interface WatermarkRepairDeps {
  readonly kafka: Kafka;
  readonly topics: { readonly changelog: string; readonly profiles: string };
  /** The processor's consumer group of the same state generation. */
  readonly group: string;
  readonly pipeline: Pipeline;
  readonly profileSerde: RecordSerde<ProfileRecord>;
  readonly now: () => number;
  /** MAX_EVENT_TIME_SKEW_MS: the target may not lie further past now. */
  readonly maxEventTimeSkewMs: number;
  /** KAFKA_IDEMPOTENT. */
  readonly idempotent: boolean;
  readonly logger: Logger;
}

export interface WatermarkRepairOptions {
  readonly partition: number;
  /** The time the partition moves back to; undefined: now. */
  readonly to: EpochMs | undefined;
  /** Read and report; write nothing. */
  readonly dryRun: boolean;
}

export type RepairRefusal = 'processor_running' | 'no_such_partition' | 'target_out_of_range';

/** The repair would not start: the message says what to change first. */
export class RepairRefusedError extends Error {
  constructor(
    readonly reason: RepairRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'RepairRefusedError';
  }
}

export interface WatermarkRepairReport {
  readonly partition: number;
  readonly changelog: string;
  readonly profilesTopic: string;
  readonly group: string;
  /** The processor group's state as the repair found it (`Empty` or `Dead` for a real repair). */
  readonly groupState: string;
  readonly dryRun: boolean;
  /** `nothing_to_repair`: the partition's watermark was not after the target (nothing written). */
  readonly outcome: 'repaired' | 'dry_run' | 'nothing_to_repair';
  /** The watermark the changelog held; null when it held none. */
  readonly watermark: number | null;
  readonly target: number;
  /** The input positions the watermark record carries: written back unchanged. */
  readonly inputs: InputPositions | undefined;
  readonly entities: number;
  readonly entitiesRewritten: number;
  readonly profilesRewritten: number;
  /** Profiles in the table that had been judged after the target. */
  readonly profilesJudgedAfter: number;
  /** Users whose horizon had been carried past the target (moved back; the days it cut stay out of windows). */
  readonly usersRewound: number;
  /** Entities holding events after the target: the runaway events themselves, which only a replay removes. */
  readonly entitiesWithLaterEvents: number;
  readonly undecodableProfiles: number;
}

/**
 * `repair-watermark`: moves back the watermark of one state partition that an older version let run ahead, and what
 * it had carried along. The changelog partition is restored into a temporary store; each entity is brought back to
 * the target (repairEntity); the changed states and the profiles judged after the target are written, then a new
 * `~watermark` record with the target and the input positions the old one carried, so the states still skip the
 * input they hold. A restore takes the newest watermark record (changelog-restorer.ts), so processors pick the
 * target up from the changelog however far their local stores had got. Refused while the processor group has
 * members: a running processor holds the watermark in memory and would write it back.
 */
export async function repairWatermark(
  deps: WatermarkRepairDeps,
  options: WatermarkRepairOptions,
): Promise<WatermarkRepairReport> {
  const { topics, group, logger } = deps;
  const now = deps.now();
  const target = options.to ?? now;
  const latest = now + deps.maxEventTimeSkewMs;
  if (!(target >= EARLIEST_EVENT_TIME && target <= latest)) {
    throw new RepairRefusedError(
      'target_out_of_range',
      'the target must lie between 1970-01-01T00:00:00Z and now plus MAX_EVENT_TIME_SKEW_MS',
    );
  }
  const admin = deps.kafka.admin();
  await admin.connect();
  const directory = mkdtempSync(join(tmpdir(), `persona-stream-repair-p${String(options.partition)}-`));
  const store = new StateStore(directory);
  try {
    await requirePartition(admin, topics.changelog, options.partition);
    const groupState = await processorGroupState(admin, group, options.dryRun);
    await restoreFromChangelog({
      kafka: deps.kafka,
      admin,
      topic: topics.changelog,
      partitions: [options.partition],
      store,
      logger,
      groupPrefix: `${group}.repair.`,
    });
    const checkpoint = store.checkpoint(options.partition);
    const watermark = checkpoint !== undefined && Number.isFinite(checkpoint.watermark) ? checkpoint.watermark : null;
    const base = {
      partition: options.partition,
      changelog: topics.changelog,
      profilesTopic: topics.profiles,
      group,
      groupState,
      dryRun: options.dryRun,
      watermark,
      target,
      inputs: checkpoint?.inputs,
      entities: store.count(options.partition),
    };
    if (watermark === null || watermark <= target) {
      return {
        ...base,
        outcome: 'nothing_to_repair',
        entitiesRewritten: 0,
        profilesRewritten: 0,
        profilesJudgedAfter: 0,
        usersRewound: 0,
        entitiesWithLaterEvents: 0,
        undecodableProfiles: 0,
      };
    }
    const table = await profileTimes(deps, admin, options.partition);
    const context: RepairContext = {
      pipeline: deps.pipeline,
      codec: createEntityStateCodec(deps.pipeline),
      target,
      tableAsOf: table.asOf,
    };
    const writer = options.dryRun ? undefined : await repairWriter(deps);
    const counts = { entitiesRewritten: 0, profilesRewritten: 0, profilesJudgedAfter: 0, usersRewound: 0, later: 0 };
    try {
      let page: { changelog: Message[]; profiles: Message[] } = { changelog: [], profiles: [] };
      for (const [key, stored] of store.entries(options.partition)) {
        const repair = repairEntity(key, stored, context);
        if (repair.rewound) counts.usersRewound++;
        if (repair.eventsAfterTarget) counts.later++;
        if (repair.judgedAfterTarget) counts.profilesJudgedAfter++;
        if (repair.stored !== undefined) {
          counts.entitiesRewritten++;
          page.changelog.push({ key, value: encodeStored(repair.stored), partition: options.partition });
        }
        if (repair.profile !== undefined) {
          counts.profilesRewritten++;
          const value = await deps.profileSerde.encode(repair.profile);
          page.profiles.push({ key, value, partition: options.partition });
        }
        if (page.changelog.length >= PAGE) {
          await writer?.write(page.changelog, page.profiles);
          page = { changelog: [], profiles: [] };
        }
      }
      // Last: until it lands, a rerun finds the old watermark and repairs again (each step is idempotent).
      const progress: Message = {
        key: WATERMARK_KEY,
        value: encodeWatermark(target, checkpoint?.inputs),
        partition: options.partition,
      };
      await writer?.write([...page.changelog, progress], page.profiles);
    } finally {
      await writer?.close();
    }
    logger.info({ partition: options.partition, watermark, target, ...counts }, 'repair-watermark finished');
    return {
      ...base,
      outcome: options.dryRun ? 'dry_run' : 'repaired',
      entitiesRewritten: counts.entitiesRewritten,
      profilesRewritten: counts.profilesRewritten,
      profilesJudgedAfter: counts.profilesJudgedAfter,
      usersRewound: counts.usersRewound,
      entitiesWithLaterEvents: counts.later,
      undecodableProfiles: table.undecodable,
    };
  } finally {
    await admin.disconnect();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function requirePartition(admin: Admin, changelog: string, partition: number): Promise<void> {
  const partitions = (await admin.fetchTopicOffsets(changelog)).map((entry) => entry.partition);
  if (!partitions.includes(partition)) {
    throw new RepairRefusedError(
      'no_such_partition',
      `${changelog} has no partition ${String(partition)} (it has ${String(partitions.length)}, from 0)`,
    );
  }
}

/** The group's state; a real repair is refused unless no member is in it (Empty, or Dead: never used). */
async function processorGroupState(admin: Admin, group: string, dryRun: boolean): Promise<string> {
  const { groups } = await admin.describeGroups([group]);
  const described = groups.find((entry) => entry.groupId === group);
  const state = described?.state ?? 'Dead';
  if (dryRun || state === 'Empty' || state === 'Dead') return state;
  throw new RepairRefusedError(
    'processor_running',
    `the processor group ${group} is ${state} with ${String(described?.members.length ?? 0)} member(s): stop every ` +
      'processor (and `all`) of this state generation first; a running one holds the watermark in memory and ' +
      'would write it back',
  );
}

/** Profile key → `as_of` of its newest record, over the profiles table's partition of the same number. */
async function profileTimes(
  deps: WatermarkRepairDeps,
  admin: Admin,
  partition: number,
): Promise<{ asOf: Map<string, number>; undecodable: number }> {
  const asOf = new Map<string, number>();
  let undecodable = 0;
  await readPartition(deps.kafka, admin, {
    topic: deps.topics.profiles,
    partition,
    groupPrefix: `${deps.group}.repair.profiles.`,
    onRecord: async (message) => {
      const key = message.key?.toString('utf8');
      if (key === undefined) return;
      if (message.value === null) {
        asOf.delete(key);
        return;
      }
      try {
        asOf.set(key, (await deps.profileSerde.decode(message.value)).as_of);
      } catch (error) {
        if (!(error instanceof RecordDecodeError)) throw error;
        undecodable++;
      }
    },
  });
  return { asOf, undecodable };
}

interface RepairWriter {
  write(changelog: readonly Message[], profiles: readonly Message[]): Promise<void>;
  close(): Promise<void>;
}

/** Changelog and profiles records of one page in one produce request, acknowledged by every replica. */
async function repairWriter(deps: WatermarkRepairDeps): Promise<RepairWriter> {
  const producer = deps.kafka.producer({
    allowAutoTopicCreation: false,
    maxInFlightRequests: 1,
    idempotent: deps.idempotent,
  });
  await producer.connect();
  return {
    write: async (changelog, profiles) => {
      const topicMessages = [{ topic: deps.topics.changelog, messages: [...changelog] }];
      if (profiles.length > 0) topicMessages.push({ topic: deps.topics.profiles, messages: [...profiles] });
      await producer.sendBatch({ topicMessages, acks: -1, timeout: 30_000 });
    },
    close: () => producer.disconnect(),
  };
}
