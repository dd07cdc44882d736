import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../log/logger.js';
import { checkpointOf, decodeStored, type InputPositions, type StateStore, type StoredEntity } from './state-store.js';

/**
 * The changelog record carrying a partition's progress: its watermark and the input positions its states hold.
 * Entity keys are `customer:…`/`user:…`, never this.
 */
export const WATERMARK_KEY = '~watermark';

/** The partition's progress as the changelog carries it under WATERMARK_KEY. */
export interface PartitionProgress {
  readonly watermark: number;
  readonly inputs: InputPositions | undefined;
}

/**
 * 8 bytes of watermark (a big-endian double), then, once input positions are known, their JSON. Every record has the
 * full positions: compaction keeps only the newest one. A record of 8 bytes (written before positions were kept)
 * reads as no positions.
 */
export function encodeWatermark(watermark: number, inputs?: InputPositions): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeDoubleBE(watermark, 0);
  return inputs === undefined ? head : Buffer.concat([head, Buffer.from(JSON.stringify(inputs), 'utf8')]);
}

export function decodeProgress(bytes: Buffer): PartitionProgress {
  if (bytes.byteLength < 8) return { watermark: Number.NEGATIVE_INFINITY, inputs: undefined };
  const watermark = bytes.readDoubleBE(0);
  if (bytes.byteLength === 8) return { watermark, inputs: undefined };
  return { watermark, inputs: parseInputPositions(bytes.subarray(8).toString('utf8')) };
}

/** Positions that do not parse are unknown: the older ones stay in force, so fewer records are skipped, never more. */
function parseInputPositions(text: string): InputPositions | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const positions: Record<string, string> = {};
  for (const [topic, offset] of Object.entries(value)) {
    if (typeof offset !== 'string' || !/^\d+$/.test(offset)) return undefined;
    positions[topic] = offset;
  }
  return positions;
}

export interface RestoreOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly partitions: readonly number[];
  readonly store: StateStore;
  readonly logger: Logger;
  /** Prefix of the throwaway consumer group that reads the changelog. */
  readonly groupPrefix: string;
  /** Called while restoring so the caller's own group membership stays alive. */
  readonly keepAlive?: () => Promise<void>;
}

export interface RestoreReport {
  readonly records: number;
  readonly partitions: readonly number[];
  readonly durationMs: number;
}

interface Pending {
  readonly start: bigint;
  /** High watermark when the restore began: the restore is complete once the record before it is read. */
  readonly end: bigint;
  watermark: number;
  inputs: InputPositions | undefined;
}

/**
 * Brings the local store up to the changelog for the given partitions, reading only what the local checkpoint does
 * not already hold (a pod that kept its volume restores just the tail). Records are whole entity states, so the
 * newest record per key wins and compaction never loses information.
 */
export async function restoreFromChangelog(options: RestoreOptions): Promise<RestoreReport> {
  const started = performance.now();
  const offsets = await options.admin.fetchTopicOffsets(options.topic);
  const pending = new Map<number, Pending>();
  for (const partition of options.partitions) {
    const bounds = offsets.find((entry) => entry.partition === partition);
    if (bounds === undefined) continue;
    const checkpoint = options.store.checkpoint(partition);
    const low = BigInt(bounds.low);
    const end = BigInt(bounds.high);
    let start = BigInt(checkpoint?.changelogOffset ?? '0');
    if (start < low) start = low;
    if (start > end) {
      // The local store is ahead of the changelog: the topic was recreated. Trust the changelog.
      options.logger.warn({ partition }, 'local state is ahead of its changelog: discarding it and restoring');
      options.store.clear(partition);
      start = low;
    }
    if (start < end) {
      const watermark = checkpoint?.watermark ?? Number.NEGATIVE_INFINITY;
      pending.set(partition, { start, end, watermark, inputs: checkpoint?.inputs });
    }
  }
  if (pending.size === 0) return { records: 0, partitions: [], durationMs: performance.now() - started };

  const restored = [...pending.keys()];
  options.logger.info(
    {
      partitions: restored,
      records: [...pending.values()].reduce((sum, entry) => sum + Number(entry.end - entry.start), 0),
    },
    'restoring state from the changelog',
  );
  let records = 0;
  const consumer = options.kafka.consumer({
    groupId: `${options.groupPrefix}restore.${randomUUID()}`,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const keepAlive = setInterval(() => {
        void options.keepAlive?.().catch(() => undefined);
      }, 1_000);
      const finish = (error?: unknown) => {
        clearInterval(keepAlive);
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error('changelog restore failed', { cause: error }));
      };
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const [partition, entry] of pending) {
          consumer.seek({ topic: options.topic, partition, offset: entry.start.toString() });
        }
      });
      consumer.on(consumer.events.CRASH, (event) => {
        finish(event.payload.error);
      });
      consumer
        .run({
          eachBatchAutoResolve: true,
          eachBatch: ({ batch }) => {
            const entry = pending.get(batch.partition);
            if (entry === undefined) return Promise.resolve();
            const entities = new Map<string, StoredEntity>();
            let next = entry.start;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset < entry.start || offset >= entry.end) continue;
              next = offset + 1n;
              const key = message.key?.toString('utf8');
              if (key === undefined || message.value === null) continue;
              if (key === WATERMARK_KEY) {
                const progress = decodeProgress(message.value);
                // The newest record wins, not the highest watermark: repair-watermark moves one back.
                if (Number.isFinite(progress.watermark)) entry.watermark = progress.watermark;
                // The newest positions: those of the newest states, written in the same record batch as them.
                if (progress.inputs !== undefined) entry.inputs = progress.inputs;
              } else entities.set(key, decodeStored(message.value));
            }
            if (next === entry.start) return Promise.resolve();
            records += entities.size;
            options.store.write(
              batch.partition,
              entities,
              checkpointOf(next.toString(), entry.watermark, entry.inputs),
            );
            pending.set(batch.partition, { ...entry, start: next });
            if (next >= entry.end) pending.delete(batch.partition);
            if (pending.size === 0) finish();
            return Promise.resolve();
          },
        })
        .catch(finish);
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  const durationMs = performance.now() - started;
  options.logger.info({ partitions: restored, records, durationMs: Math.round(durationMs) }, 'state restored');
  return { records, partitions: restored, durationMs };
}
