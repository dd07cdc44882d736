import kafkajs from 'kafkajs';
import { waitForTopicsServing } from './topics-serving.js';
import type { Admin } from 'kafkajs';
import type { TopicSpec } from './topic-catalogue.js';

// kafkajs is CommonJS: its enums are reached through the default export under ESM.
const { ConfigResourceTypes } = kafkajs;

/** What `topics create` found or did for one topic. */
export type TopicOutcome =
  | { readonly topic: string; readonly status: 'created' }
  | { readonly topic: string; readonly status: 'ok' }
  | {
      readonly topic: string;
      readonly status: 'partitions_mismatch';
      readonly expected: number;
      readonly actual: number;
    }
  | {
      readonly topic: string;
      readonly status: 'cleanup_policy_mismatch';
      readonly expected: string;
      readonly actual: string;
    }
  | { readonly topic: string; readonly status: 'cleanup_policy_unverified'; readonly reason: string }
  | { readonly topic: string; readonly status: 'not_created'; readonly reason: string };

export function isProblem(outcome: TopicOutcome): boolean {
  return (
    outcome.status === 'partitions_mismatch' ||
    outcome.status === 'cleanup_policy_mismatch' ||
    outcome.status === 'not_created'
  );
}

/**
 * Creates the missing topics and verifies the existing ones (partition count, cleanup policy) through the admin API.
 * Never changes an existing topic: a mismatch is reported for the operator to fix. A broker that cannot create
 * topics or describe configs through its controller (librdkafka's mock cluster is one) gets each topic reported
 * with the reason instead of a crash.
 */
export async function ensureTopics(admin: Admin, catalogue: readonly TopicSpec[]): Promise<TopicOutcome[]> {
  const existing = new Set(await admin.listTopics());
  const missing = catalogue.filter((spec) => !existing.has(spec.name));
  const outcomes = new Map<string, TopicOutcome>();

  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: [
            { name: 'cleanup.policy', value: spec.cleanupPolicy },
            ...Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          ],
        })),
      });
      for (const spec of missing) outcomes.set(spec.name, { topic: spec.name, status: 'created' });
      // The topics exist now: a broker slow to serve them is not a failure to create them.
      await waitForTopicsServing(
        admin,
        missing.map((spec) => spec.name),
      ).catch(() => undefined);
    } catch (error) {
      const reason = createTopicsFailure(error);
      for (const spec of missing) outcomes.set(spec.name, { topic: spec.name, status: 'not_created', reason });
    }
  }

  const present = catalogue.filter((spec) => existing.has(spec.name));
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.name) });
    const policies = await cleanupPolicies(admin, present);
    for (const spec of present) {
      const partitions = metadata.topics.find((topic) => topic.name === spec.name)?.partitions.length ?? 0;
      const policy = policies.get(spec.name);
      outcomes.set(spec.name, verify(spec, partitions, policy));
    }
  }
  return catalogue.map((spec) => outcomes.get(spec.name) ?? { topic: spec.name, status: 'ok' });
}

function verify(spec: TopicSpec, partitions: number, policy: string | Error | undefined): TopicOutcome {
  if (partitions !== spec.partitions) {
    return { topic: spec.name, status: 'partitions_mismatch', expected: spec.partitions, actual: partitions };
  }
  if (policy instanceof Error) return { topic: spec.name, status: 'cleanup_policy_unverified', reason: policy.message };
  if (
    policy !== undefined &&
    !policy
      .split(',')
      .map((part) => part.trim())
      .includes(spec.cleanupPolicy)
  ) {
    return { topic: spec.name, status: 'cleanup_policy_mismatch', expected: spec.cleanupPolicy, actual: policy };
  }
  return { topic: spec.name, status: 'ok' };
}

/** cleanup.policy per topic, or the reason it could not be read (one error for all when DescribeConfigs fails). */
async function cleanupPolicies(admin: Admin, specs: readonly TopicSpec[]): Promise<Map<string, string | Error>> {
  const policies = new Map<string, string | Error>();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((spec) => ({
        type: ConfigResourceTypes.TOPIC,
        name: spec.name,
        configNames: ['cleanup.policy'],
      })),
    });
    for (const resource of described.resources) {
      const entry = resource.configEntries.find((candidate) => candidate.configName === 'cleanup.policy');
      if (entry !== undefined) policies.set(resource.resourceName, entry.configValue);
    }
  } catch (error) {
    const reason = new Error(`the broker did not answer DescribeConfigs (${errorText(error)})`);
    for (const spec of specs) policies.set(spec.name, reason);
  }
  return policies;
}

function createTopicsFailure(error: unknown): string {
  const text = errorText(error);
  if (/BrokerNotFound|not found in the cached metadata|controller/i.test(text)) {
    return `the broker does not accept CreateTopics through its controller (${text}); librdkafka's mock cluster is such a broker: create the topic with the broker's own tooling`;
  }
  return `CreateTopics failed: ${text}`;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // kafkajs reports a refused CreateTopics as one "Topic creation errors" holding each topic's error: name those.
  const causes =
    'errors' in error && Array.isArray(error.errors) ? error.errors.filter((each) => each instanceof Error) : [];
  const reasons = [
    ...new Set(causes.map((cause) => ('type' in cause ? `${String(cause.type)}: ` : '') + cause.message)),
  ];
  return `${error.name}: ${error.message}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`;
}
