import type { Admin } from 'kafkajs';
import { ensureTopics, type TopicOutcome } from '../adapters/kafka/topic-admin.js';
import { topicCatalogue, type TopicSpec } from '../adapters/kafka/topic-catalogue.js';

export type ReplayRefusal =
  | 'same_generation'
  | 'generation_in_use'
  | 'changelog_not_created'
  | 'changelog_mismatch'
  | 'not_co_partitioned'
  | 'state_dir_not_empty';

/** The replay would not start: the reason says what to change (a generation, a topic, a directory). */
export class ReplayRefusedError extends Error {
  constructor(
    readonly reason: ReplayRefusal,
    message: string,
    readonly context: Readonly<Record<string, string | number>>,
  ) {
    super(message);
    this.name = 'ReplayRefusedError';
  }
}

/** The input topics' partition count; the processor needs both event topics (and the changelog) co-partitioned. */
export async function eventPartitionCount(admin: Admin, stripeEvents: string, segmentEvents: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [stripeEvents, segmentEvents] });
  const count = (topic: string) => metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
  const [stripe, segment] = [count(stripeEvents), count(segmentEvents)];
  if (stripe !== segment) {
    throw new ReplayRefusedError(
      'not_co_partitioned',
      `${stripeEvents} has ${String(stripe)} partitions and ${segmentEvents} ${String(segment)}: the processor needs them equal`,
      { [stripeEvents]: stripe, [segmentEvents]: segment },
    );
  }
  return stripe;
}

export interface ReplayTarget {
  readonly generation: number;
  readonly group: string;
  readonly changelog: string;
  readonly eventTopics: readonly string[];
  readonly partitions: number;
  readonly topicPrefix: string;
}

/**
 * Makes sure the target generation is fresh and has its changelog: the group has committed nothing and the
 * changelog topic holds no record (a generation is written by one replay, once). The changelog is created through
 * the admin API when missing, with the catalogue's settings; a broker that cannot create topics (librdkafka's mock)
 * gets the topic named for the operator to create. Returns whether the changelog was created.
 */
export async function prepareTarget(admin: Admin, target: ReplayTarget): Promise<'created' | 'existing'> {
  const committed = await admin.fetchOffsets({ groupId: target.group, topics: [...target.eventTopics] });
  const used = committed.flatMap((topic) => topic.partitions.filter((partition) => partition.offset !== '-1'));
  if (used.length > 0) {
    throw new ReplayRefusedError(
      'generation_in_use',
      `state generation ${String(target.generation)} is in use: its consumer group ${target.group} has committed offsets; ` +
        `replay into an unused generation (--generation ${String(target.generation + 1)})`,
      { generation: target.generation, group: target.group },
    );
  }
  const spec = changelogSpec(target);
  const [outcome] = await ensureTopics(admin, [spec]);
  if (outcome === undefined) throw new Error(`no outcome for topic ${spec.name}`);
  refuseUnusable(outcome, spec);
  const holding = (await admin.fetchTopicOffsets(spec.name)).filter((entry) => BigInt(entry.high) > BigInt(entry.low));
  if (holding.length > 0) {
    throw new ReplayRefusedError(
      'generation_in_use',
      `state generation ${String(target.generation)} is in use: its changelog ${spec.name} already holds records; ` +
        `replay into an unused generation (--generation ${String(target.generation + 1)})`,
      { generation: target.generation, changelog: spec.name },
    );
  }
  return outcome.status === 'created' ? 'created' : 'existing';
}

function changelogSpec(target: ReplayTarget): TopicSpec {
  const base = topicCatalogue({ prefix: target.topicPrefix, eventPartitions: target.partitions }).find(
    (spec) => spec.role === 'state-changelog',
  );
  if (base === undefined) throw new Error('the topic catalogue has no state changelog');
  return { ...base, name: target.changelog };
}

function refuseUnusable(outcome: TopicOutcome, spec: TopicSpec): void {
  const context = { changelog: spec.name, partitions: spec.partitions };
  switch (outcome.status) {
    case 'created':
    case 'ok':
    case 'cleanup_policy_unverified':
      return;
    case 'not_created':
      throw new ReplayRefusedError(
        'changelog_not_created',
        `the changelog topic ${spec.name} of the new generation does not exist and could not be created (${outcome.reason}). ` +
          `Create it first with ${String(spec.partitions)} partitions and cleanup.policy=compact, e.g. ` +
          `kafka-topics.sh --create --topic ${spec.name} --partitions ${String(spec.partitions)} --config cleanup.policy=compact`,
        context,
      );
    case 'partitions_mismatch':
      throw new ReplayRefusedError(
        'changelog_mismatch',
        `the changelog topic ${spec.name} has ${String(outcome.actual)} partitions; the event topics have ${String(outcome.expected)} and it must match them`,
        context,
      );
    case 'cleanup_policy_mismatch':
      throw new ReplayRefusedError(
        'changelog_mismatch',
        `the changelog topic ${spec.name} has cleanup.policy=${outcome.actual}; it must be ${outcome.expected}`,
        context,
      );
  }
}
