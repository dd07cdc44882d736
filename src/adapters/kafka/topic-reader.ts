import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly message: KafkaMessage;
}

/**
 * Every record of a topic up to its high watermarks at call time, in partition then offset order: a compacted
 * table (the persona registry) read at start-up, or a topic checked by a test. Reads through a throwaway group.
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map<number, bigint>();
  for (const entry of offsets) {
    if (BigInt(entry.high) > BigInt(entry.low)) remaining.set(entry.partition, BigInt(entry.high));
  }
  const records: ReadRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `reader.${randomUUID()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`reading ${topic} timed out; partitions still open: ${[...remaining.keys()].join(',')}`));
      }, timeoutMs);
      consumer
        .run({
          eachMessage: ({ partition, message }) => {
            const end = remaining.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return Promise.resolve();
            records.push({
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value,
              message,
            });
            if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** The newest value per key (a compacted topic's table view); a null value deletes the key. */
export function latestByKey(records: readonly ReadRecord[]): Map<string, Buffer> {
  const table = new Map<string, Buffer>();
  for (const record of records) {
    if (record.key === null) continue;
    if (record.value === null) table.delete(record.key);
    else table.set(record.key, record.value);
  }
  return table;
}
