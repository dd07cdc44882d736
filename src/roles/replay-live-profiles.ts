import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { RecordDecodeError, type RecordSerde } from '../adapters/kafka/record-serde.js';
import { profileHash } from '../processor/partition-processor.js';
import { profileFromRecord, profileToRecord, type ProfileRecord } from '../records/profile-record.js';

/** The profiles table could not be read to its end in time. */
export class LiveProfilesReadError extends Error {
  constructor(
    readonly topic: string,
    readonly openPartitions: readonly number[],
    timeoutMs: number,
  ) {
    super(
      `reading the profiles table ${topic} timed out after ${String(timeoutMs)} ms; partitions still open: ${openPartitions.join(',')}`,
    );
    this.name = 'LiveProfilesReadError';
  }
}

/** The live profiles table as a replay compares with it: one content hash per key (nothing else is kept). */
export interface LiveProfiles {
  /** Profile key → profileHash of its newest record. */
  readonly hashes: Map<string, number>;
  /** Records that could not be decoded (left out; the flusher dead-letters them). */
  readonly undecodable: number;
}

/**
 * Reads the compacted profiles topic up to its high watermarks of now, keeping per key only the content hash of
 * its newest profile (about 60 bytes a key, so a million profiles fit a small pod). `onRecord` sees every record in
 * topic order, tombstones as null: the dry run feeds them to its flush engine.
 */
export async function readLiveProfiles(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  serde: RecordSerde<ProfileRecord>,
  onRecord?: (key: string, record: ProfileRecord | null) => void,
  timeoutMs = 300_000,
): Promise<LiveProfiles> {
  const hashes = new Map<string, number>();
  let undecodable = 0;
  const remaining = new Map<number, bigint>();
  for (const entry of await admin.fetchTopicOffsets(topic)) {
    if (BigInt(entry.high) > BigInt(entry.low)) remaining.set(entry.partition, BigInt(entry.high));
  }
  if (remaining.size === 0) return { hashes, undecodable };
  const consumer = kafka.consumer({ groupId: `replay.profiles.${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new LiveProfilesReadError(topic, [...remaining.keys()], timeoutMs));
      }, timeoutMs);
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject(event.payload.error);
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            const end = remaining.get(batch.partition);
            if (end === undefined) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) break;
              const key = message.key?.toString('utf8');
              if (key === undefined) continue;
              if (message.value === null) {
                hashes.delete(key);
                onRecord?.(key, null);
                continue;
              }
              try {
                const record = await serde.decode(message.value);
                // Through the domain form and back: the same field order the processor hashes.
                hashes.set(key, profileHash(profileToRecord(profileFromRecord(record))));
                onRecord?.(key, record);
              } catch (error) {
                if (!(error instanceof RecordDecodeError)) throw error;
                undecodable++;
              }
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) {
              remaining.delete(batch.partition);
              consumer.pause([{ topic, partitions: [batch.partition] }]);
            }
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return { hashes, undecodable };
}
