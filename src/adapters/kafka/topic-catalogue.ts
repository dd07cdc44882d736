/**
 * Every topic persona-stream uses, with how it must be configured. Event topics are the source of truth (kept for
 * replay, never compacted); derived tables are compacted to the newest record per key. The state changelog is
 * co-partitioned with the event topics: partition p of the changelog holds the state of the keys of partition p.
 */
export type TopicRole =
  | 'stripe-events'
  | 'segment-events'
  | 'state-changelog'
  | 'profiles'
  | 'personas'
  | 'persona-updates'
  | 'dlq'
  | 'flusher-lock';

export interface TopicSpec {
  readonly role: TopicRole;
  /** Base name; the topic's full name is KAFKA_TOPIC_PREFIX + base name. */
  readonly baseName: string;
  readonly name: string;
  readonly partitions: number;
  /** -1: the broker's default (Kafka ≥ 2.4). */
  readonly replicationFactor: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Topic configs beyond the cleanup policy (retention, compaction tuning). */
  readonly configs: Readonly<Record<string, string>>;
  readonly purpose: string;
}

export const DEFAULT_EVENT_PARTITIONS = 12;
const DAY_MS = 86_400_000;

export interface CatalogueOptions {
  readonly prefix: string;
  /** Partitions of the event topics and the changelog (they must match: co-partitioning). */
  readonly eventPartitions?: number;
  readonly replicationFactor?: number;
}

export function topicCatalogue(options: CatalogueOptions): readonly TopicSpec[] {
  const eventPartitions = options.eventPartitions ?? DEFAULT_EVENT_PARTITIONS;
  const spec = (
    role: TopicRole,
    baseName: string,
    partitions: number,
    cleanupPolicy: TopicSpec['cleanupPolicy'],
    configs: Record<string, string>,
    purpose: string,
  ): TopicSpec => ({
    role,
    baseName,
    name: `${options.prefix}${baseName}`,
    partitions,
    replicationFactor: options.replicationFactor ?? -1,
    cleanupPolicy,
    configs,
    purpose,
  });
  // Kept forever: `replay --from earliest` rebuilds everything from them.
  const forever = { 'retention.ms': '-1', 'retention.bytes': '-1' };
  const compacted = { 'min.compaction.lag.ms': String(60_000), 'segment.ms': String(DAY_MS) };
  return [
    spec('stripe-events', 'stripe.events', eventPartitions, 'delete', forever, 'Stripe events, keyed by customer id'),
    spec(
      'segment-events',
      'segment.events',
      eventPartitions,
      'delete',
      forever,
      'Segment messages, keyed by userId or anonymousId',
    ),
    spec(
      'state-changelog',
      'state-changelog',
      eventPartitions,
      'compact',
      compacted,
      'processor state per entity (co-partitioned with the event topics)',
    ),
    spec('profiles', 'profiles', eventPartitions, 'compact', compacted, 'derived profiles, newest per entity'),
    spec('personas', 'personas', 1, 'compact', compacted, 'segment → Mavera persona id and last sent hash'),
    spec(
      'persona-updates',
      'persona-updates',
      1,
      'delete',
      { 'retention.ms': String(90 * DAY_MS) },
      'audit log of every Mavera call or dry-run decision',
    ),
    spec(
      'dlq',
      'dlq',
      1,
      'delete',
      { 'retention.ms': String(90 * DAY_MS) },
      'records that could not be processed, with the reason',
    ),
    // Never written to: the flusher replica that the group assigns its one partition is the active flusher.
    spec(
      'flusher-lock',
      'flusher-lock',
      1,
      'delete',
      { 'retention.ms': String(DAY_MS) },
      'leader election of the flusher (one partition, no records)',
    ),
  ];
}

/**
 * The catalogue as a local broker for tests and benchmarks creates it: each topic's name, partitions and whether it
 * is compacted (no retention or replication settings: the mock broker takes none).
 */
export function localTopics(
  prefix: string,
  eventPartitions: number,
): { readonly name: string; readonly partitions: number; readonly compacted: boolean }[] {
  return topicCatalogue({ prefix, eventPartitions }).map((spec) => ({
    name: spec.name,
    partitions: spec.partitions,
    compacted: spec.cleanupPolicy === 'compact',
  }));
}

export function topicName(catalogue: readonly TopicSpec[], role: TopicRole): string {
  const spec = catalogue.find((candidate) => candidate.role === role);
  if (spec === undefined) throw new Error(`no topic with role ${role} in the catalogue`);
  return spec.name;
}
