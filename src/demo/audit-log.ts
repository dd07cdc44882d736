import type { Kafka } from 'kafkajs';
import type { PartitionOffsets } from './pipeline-readings.js';
import { TopicFollower } from './topic-follower.js';

/** The persona-updates topic (the flusher's audit of every Mavera call or dry-run decision), in topic order. */
export class AuditLog {
  private constructor(
    private readonly values: readonly Buffer[],
    private readonly follower: TopicFollower,
  ) {}

  static async open(kafka: Kafka, topic: string, groupPrefix: string): Promise<AuditLog> {
    const values: Buffer[] = [];
    const follower = await TopicFollower.open(kafka, topic, groupPrefix, (_key, value) => {
      if (value !== null) values.push(value);
    });
    return new AuditLog(values, follower);
  }

  hasReached(ends: PartitionOffsets): boolean {
    return this.follower.hasReached(ends);
  }

  /** Every encoded record read so far. */
  records(): readonly Buffer[] {
    return this.values;
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
