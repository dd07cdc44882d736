import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { PartitionOffsets } from './pipeline-readings.js';

export type RecordHandler = (key: string | undefined, value: Buffer | null) => void;

/**
 * Reads a topic from the beginning for as long as the run lasts, through a throwaway group joined at start-up (a join
 * costs seconds, so never at the end), handing each record to `onRecord`; reading while the pipeline writes also
 * means nothing can age out of a size-bounded log before it is seen.
 */
export class TopicFollower {
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, bigint>();

  private constructor(private readonly consumer: Consumer) {}

  static async open(kafka: Kafka, topic: string, groupPrefix: string, onRecord: RecordHandler): Promise<TopicFollower> {
    const consumer = kafka.consumer({
      groupId: `${groupPrefix}demo.reader.${randomUUID()}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
    const follower = new TopicFollower(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) onRecord(message.key?.toString('utf8'), message.value);
        follower.positions.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
        return Promise.resolve();
      },
    });
    return follower;
  }

  /** Whether every partition has been read up to the given end offsets (high watermarks). */
  hasReached(ends: PartitionOffsets): boolean {
    for (const [partition, end] of ends) {
      if (end > 0n && (this.positions.get(partition) ?? 0n) < end) return false;
    }
    return true;
  }

  close(): Promise<void> {
    return this.consumer.disconnect();
  }
}
