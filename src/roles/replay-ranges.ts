import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { ReplayRange } from '../processor/processor.js';

/** Where a replay starts: every retained record, or the first record appended at or after an instant. */
export type ReplayFrom = { readonly kind: 'earliest' } | { readonly kind: 'time'; readonly at: number };

/** A partition could not be searched for its first record at the instant in time. */
export class ReplayStartError extends Error {
  constructor(
    readonly topic: string,
    readonly partitions: readonly number[],
    reason: string,
  ) {
    super(`finding where ${topic} partitions ${partitions.join(',')} start: ${reason}`);
    this.name = 'ReplayStartError';
  }
}

/**
 * The offsets a replay reads per topic-partition, ending at the high watermarks of this moment (later records are
 * left to the live processor of the new generation). `time` follows Kafka's definition: the first record whose
 * record timestamp (the connector's publish time, not the event's occurred_at) is at or after the instant.
 */
export async function replayRanges(
  kafka: Kafka,
  admin: Admin,
  topics: readonly string[],
  from: ReplayFrom,
  timeoutMs = 120_000,
): Promise<ReplayRange[]> {
  const ranges: ReplayRange[] = [];
  const candidates: Candidate[] = [];
  for (const topic of topics) {
    const bounds = await admin.fetchTopicOffsets(topic);
    const answers = from.kind === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, from.at) : [];
    for (const bound of bounds.sort((a, b) => a.partition - b.partition)) {
      const low = BigInt(bound.low);
      const high = BigInt(bound.high);
      if (from.kind === 'earliest' || low >= high) {
        ranges.push({ topic, partition: bound.partition, start: bound.low, end: bound.high });
        continue;
      }
      const answer = answers.find((entry) => entry.partition === bound.partition)?.offset;
      const offset = answer === undefined ? low : BigInt(answer);
      candidates.push({ topic, partition: bound.partition, low, high, answer: clamp(offset, low, high) });
    }
  }
  if (from.kind === 'time' && candidates.length > 0) {
    for (const found of await firstRecordsAtOrAfter(kafka, candidates, from.at, timeoutMs)) ranges.push(found);
  }
  return ranges.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

interface Candidate {
  readonly topic: string;
  readonly partition: number;
  readonly low: bigint;
  readonly high: bigint;
  /** The broker's ListOffsets answer for the instant, within [low, high]. */
  readonly answer: bigint;
}

interface Search {
  readonly candidate: Candidate;
  /** Reading from the broker's answer − 1, whose record must be older than the instant if the answer is right. */
  probing: boolean;
}

function clamp(value: bigint, low: bigint, high: bigint): bigint {
  if (value < low) return low;
  return value > high ? high : value;
}

/**
 * Checks each broker answer by reading the record just before it (older than the instant, or the answer is wrong)
 * and the records from there to the first one at or after the instant. A broker that cannot look offsets up by
 * time (librdkafka's mock answers "the end" for every instant) is caught by that check: the partition is then
 * searched from its first record.
 */
async function firstRecordsAtOrAfter(
  kafka: Kafka,
  candidates: readonly Candidate[],
  at: number,
  timeoutMs: number,
): Promise<ReplayRange[]> {
  const searches = new Map<string, Search>();
  for (const candidate of candidates) {
    searches.set(`${candidate.topic}:${String(candidate.partition)}`, {
      candidate,
      probing: candidate.answer > candidate.low,
    });
  }
  const found: ReplayRange[] = [];
  const consumer = kafka.consumer({ groupId: `replay.start.${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    for (const topic of new Set(candidates.map((candidate) => candidate.topic))) {
      await consumer.subscribe({ topic, fromBeginning: true });
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const open = [...searches.values()].map((search) => search.candidate);
        const first = open[0];
        reject(
          new ReplayStartError(
            first?.topic ?? '',
            open.filter((c) => c.topic === first?.topic).map((c) => c.partition),
            `no answer within ${String(timeoutMs)} ms`,
          ),
        );
      }, timeoutMs);
      const settle = (search: Search, start: bigint) => {
        const { topic, partition, high } = search.candidate;
        found.push({ topic, partition, start: start.toString(), end: high.toString() });
        searches.delete(`${topic}:${String(partition)}`);
        consumer.pause([{ topic, partitions: [partition] }]);
        if (searches.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const search of searches.values()) {
          const { topic, partition, answer, low } = search.candidate;
          consumer.seek({ topic, partition, offset: (search.probing ? answer - 1n : low).toString() });
        }
      });
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject(event.payload.error);
      });
      consumer
        .run({
          eachBatch: (payload) => {
            const { batch } = payload;
            const search = searches.get(`${batch.topic}:${String(batch.partition)}`);
            // Fetched before a seek of ours: its records are not where the search now reads.
            if (payload.isStale()) return Promise.resolve();
            if (search === undefined) {
              consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
              return Promise.resolve();
            }
            const { answer, low, high } = search.candidate;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset < (search.probing ? answer - 1n : low)) continue;
              if (offset >= high) break;
              const atOrAfter = Number(message.timestamp) >= at;
              if (search.probing && atOrAfter && offset > low) {
                // The record before the broker's answer is not older than the instant: search from the start.
                search.probing = false;
                consumer.seek({ topic: batch.topic, partition: batch.partition, offset: low.toString() });
                return Promise.resolve();
              }
              search.probing = false;
              if (atOrAfter) {
                settle(search, offset);
                return Promise.resolve();
              }
              if (offset + 1n >= high) {
                settle(search, high);
                return Promise.resolve();
              }
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return found;
}
