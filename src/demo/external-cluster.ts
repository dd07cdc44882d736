import type { GroupDescription, Kafka } from 'kafkajs';
import type { TopicNames } from '../roles/runtime.js';

/** What the demo checks on a cluster it did not start (KAFKA_BROKERS) before running its roles there. */

/** Topics the demo needs are missing on KAFKA_BROKERS. */
export class DemoTopicsMissingError extends Error {
  constructor(
    readonly missing: readonly string[],
    readonly topicPrefix: string,
  ) {
    super(
      `these topics do not exist on KAFKA_BROKERS: ${missing.join(', ')}. Create them first with ` +
        `\`KAFKA_TOPIC_PREFIX=${topicPrefix} persona-stream topics create\` (or unset KAFKA_BROKERS to run the demo ` +
        'on its embedded broker)',
    );
    this.name = 'DemoTopicsMissingError';
  }
}

/** The event topics differ in partition count: keys would not be co-partitioned with the processor's state. */
export class DemoTopicsMismatchError extends Error {
  constructor(readonly partitions: Readonly<Record<string, number>>) {
    super(
      `the event topics must have the same number of partitions, found ${Object.entries(partitions)
        .map(([topic, count]) => `${topic}: ${String(count)}`)
        .join(', ')}`,
    );
    this.name = 'DemoTopicsMismatchError';
  }
}

/** A deployed pipeline is consuming the same topics: the demo's own roles would join its groups. */
export class PipelineAlreadyRunningError extends Error {
  constructor(readonly groups: readonly string[]) {
    super(
      `consumer group(s) ${groups.join(', ')} already have members: a pipeline is running on these topics. Feed it ` +
        'with `persona-stream demo --publish-only` instead, or give the demo a KAFKA_TOPIC_PREFIX of its own',
    );
    this.name = 'PipelineAlreadyRunningError';
  }
}

/**
 * Checks, on a cluster the demo did not start, that the topics of `names` exist (`topics create` makes them) and
 * returns the event topics' partition count (the closing events need one per partition).
 */
export async function verifyDemoTopics(
  kafka: Kafka,
  topicPrefix: string,
  names: TopicNames,
  required: readonly string[],
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = required.filter((topic) => !existing.has(topic));
    if (missing.length > 0) throw new DemoTopicsMissingError(missing, topicPrefix);
    const metadata = await admin.fetchTopicMetadata({ topics: [names.stripeEvents, names.segmentEvents] });
    const partitions = Object.fromEntries(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    const counts = new Set(Object.values(partitions));
    const [count] = counts;
    if (counts.size !== 1 || count === undefined) throw new DemoTopicsMismatchError(partitions);
    return count;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Refuses to run the demo's roles beside a deployed pipeline's (same groups on the same topics). A broker that cannot
 * describe groups (librdkafka's mock cluster) is not checked.
 */
export async function assertNoPipelineRunning(kafka: Kafka, groups: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let described: GroupDescription[];
  try {
    ({ groups: described } = await admin.describeGroups([...groups]));
  } catch {
    return;
  } finally {
    await admin.disconnect();
  }
  const busy = described.filter((group) => group.members.length > 0).map((group) => group.groupId);
  if (busy.length > 0) throw new PipelineAlreadyRunningError(busy);
}
