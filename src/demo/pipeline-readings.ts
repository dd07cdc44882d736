import type { Admin, Kafka } from 'kafkajs';
import { METRIC_PREFIX, type Metrics } from '../adapters/metrics/metrics.js';

/** Per partition: an offset (a high watermark, or a group's committed position). */
export type PartitionOffsets = ReadonlyMap<number, bigint>;

/** Reads where topics and consumer groups stand, through one admin connection. */
export class PipelineReadings {
  private constructor(private readonly admin: Admin) {}

  static async open(kafka: Kafka): Promise<PipelineReadings> {
    const admin = kafka.admin();
    await admin.connect();
    return new PipelineReadings(admin);
  }

  /** Per partition: the high watermark (how many records were ever written to it). */
  async endOffsets(topic: string): Promise<PartitionOffsets> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  }

  /** Whether `group` has committed every partition of `topic` up to `ends`. */
  async hasCommitted(group: string, topic: string, ends: PartitionOffsets): Promise<boolean> {
    const [committed] = await this.admin.fetchOffsets({ groupId: group, topics: [topic] });
    for (const [partition, end] of ends) {
      if (end === 0n) continue;
      const offset = committed?.partitions.find((entry) => entry.partition === partition)?.offset;
      if (offset === undefined || offset === '-1' || BigInt(offset) < end) return false;
    }
    return true;
  }

  close(): Promise<void> {
    return this.admin.disconnect();
  }
}

export function totalOf(offsets: PartitionOffsets): number {
  let total = 0n;
  for (const offset of offsets.values()) total += offset;
  return Number(total);
}

/**
 * Records of `topic` the process's roles have consumed, as every role reports it (persona_stream_records_consumed_total).
 */
export async function recordsConsumed(metrics: Metrics, topic: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(`${METRIC_PREFIX}records_consumed_total`);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values.filter((value) => value.labels['topic'] === topic).reduce((total, value) => total + value.value, 0);
}
