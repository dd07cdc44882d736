import type { Kafka } from 'kafkajs';
import type { PartitionOffsets } from './pipeline-readings.js';
import { TopicFollower } from './topic-follower.js';

/**
 * The profiles topic as a table (newest record per key), as the flusher sees it. Values stay encoded until the
 * report decodes the final table once.
 */
export class ProfileTable {
  private constructor(
    private readonly latest: ReadonlyMap<string, Buffer>,
    private readonly follower: TopicFollower,
  ) {}

  static async open(kafka: Kafka, topic: string, groupPrefix: string): Promise<ProfileTable> {
    const latest = new Map<string, Buffer>();
    const follower = await TopicFollower.open(kafka, topic, groupPrefix, (key, value) => {
      if (key === undefined) return;
      if (value === null) latest.delete(key);
      else latest.set(key, value);
    });
    return new ProfileTable(latest, follower);
  }

  hasReached(ends: PartitionOffsets): boolean {
    return this.follower.hasReached(ends);
  }

  /** The newest encoded value of every key still in the table. */
  values(): ReadonlyMap<string, Buffer> {
    return this.latest;
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
