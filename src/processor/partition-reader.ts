import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';

/** One partition could not be read to its end in time. */
export class PartitionReadError extends Error {
  constructor(topic: string, partition: number, timeoutMs: number) {
    super(`reading partition ${String(partition)} of ${topic} timed out after ${String(timeoutMs)} ms`);
    this.name = 'PartitionReadError';
  }
}

/**
 * Hands every record of one partition, up to its high watermark at call time, to `onRecord` in offset order,
 * through a throwaway consumer group (`groupPrefix` + a random id) that pauses the topic's other partitions.
 * Returns how many records were read.
 */
export async function readPartition(
  kafka: Kafka,
  admin: Admin,
  options: {
    readonly topic: string;
    readonly partition: number;
    readonly groupPrefix: string;
    readonly onRecord: (message: KafkaMessage) => Promise<void>;
    readonly timeoutMs?: number;
  },
): Promise<number> {
  const { topic, partition, onRecord } = options;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const bounds = (await admin.fetchTopicOffsets(topic)).find((entry) => entry.partition === partition);
  if (bounds === undefined || BigInt(bounds.high) <= BigInt(bounds.low)) return 0;
  const end = BigInt(bounds.high);
  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix}${randomUUID()}`,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new PartitionReadError(topic, partition, timeoutMs));
      }, timeoutMs);
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error('reading the partition failed', { cause: error }));
      };
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const others = (event.payload.memberAssignment[topic] ?? []).filter((assigned) => assigned !== partition);
        if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
      });
      consumer.on(consumer.events.CRASH, (event) => {
        finish(event.payload.error);
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) break;
              await onRecord(message);
              read++;
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) finish();
          },
        })
        .catch(finish);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}
