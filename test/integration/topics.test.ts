import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, type TopicOutcome } from '../../src/adapters/kafka/topic-admin.js';
import { topicCatalogue, type TopicSpec } from '../../src/adapters/kafka/topic-catalogue.js';
import { quietKafka } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const { ConfigResourceTypes } = kafkajs;
const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/src/cli/main.js');

function topicsCreate(broker: TestBroker, prefix: string) {
  return spawnSync(process.execPath, [bin, 'topics', 'create', '--partitions', '3'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    },
    timeout: 60_000,
  });
}

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Each topic's partition count and the configs the catalogue sets, as the broker describes them. */
async function describeTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
): Promise<Map<string, { partitions: number; configs: Record<string, string> }>> {
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.name })),
  });
  return new Map(
    specs.map((spec) => {
      const entries = described.resources.find((resource) => resource.resourceName === spec.name)?.configEntries;
      const wanted = ['cleanup.policy', ...Object.keys(spec.configs)];
      const configs = Object.fromEntries(
        (entries ?? [])
          .filter((entry) => wanted.includes(entry.configName))
          .map((entry) => [entry.configName, entry.configValue]),
      );
      const partitions = metadata.topics.find((topic) => topic.name === spec.name)?.partitions.length ?? 0;
      return [spec.name, { partitions, configs }];
    }),
  );
}

const statuses = (outcomes: readonly TopicOutcome[]) => outcomes.map((outcome) => outcome.status);

describe('topics create (the shared Apache Kafka)', () => {
  let broker: TestBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = quietKafka(broker);
  }, 60_000);

  afterAll(async () => {
    await broker.stop();
  });

  it('creates every topic with its partitions, cleanup policy and retention, then finds them all ok', async () => {
    const catalogue = topicCatalogue({ prefix: `${broker.prefix}fresh.`, eventPartitions: 3 });
    const first = await withAdmin(kafka, (admin) => ensureTopics(admin, catalogue));
    expect(statuses(first)).toEqual(catalogue.map(() => 'created'));

    const described = await withAdmin(kafka, (admin) => describeTopics(admin, catalogue));
    for (const spec of catalogue) {
      expect({ topic: spec.name, ...described.get(spec.name) }).toEqual({
        topic: spec.name,
        partitions: spec.partitions,
        configs: { 'cleanup.policy': spec.cleanupPolicy, ...spec.configs },
      });
    }
    // What the pipeline relies on, spelled out: tables compacted, the event topics kept forever.
    const policy = (name: string) => described.get(`${broker.prefix}fresh.${name}`)?.configs['cleanup.policy'];
    expect(['state-changelog', 'profiles', 'personas'].map(policy)).toEqual(['compact', 'compact', 'compact']);
    expect(['stripe.events', 'segment.events', 'dlq'].map(policy)).toEqual(['delete', 'delete', 'delete']);
    expect(described.get(`${broker.prefix}fresh.stripe.events`)?.configs['retention.ms']).toBe('-1');

    const again = await withAdmin(kafka, (admin) => ensureTopics(admin, catalogue));
    expect(statuses(again)).toEqual(catalogue.map(() => 'ok'));
  }, 60_000);

  it('reports existing topics that differ in partitions or cleanup policy, and changes neither', async () => {
    const prefix = `${broker.prefix}verify.`;
    await broker.createTopics([
      { name: `${prefix}profiles`, partitions: 2, compacted: true },
      { name: `${prefix}state-changelog`, partitions: 4 },
      { name: `${prefix}stripe.events`, partitions: 4 },
    ]);
    const catalogue = topicCatalogue({ prefix, eventPartitions: 4 });
    const outcomes = await withAdmin(kafka, (admin) => ensureTopics(admin, catalogue));
    const byTopic = new Map(outcomes.map((outcome) => [outcome.topic, outcome]));
    expect(byTopic.get(`${prefix}profiles`)).toEqual({
      topic: `${prefix}profiles`,
      status: 'partitions_mismatch',
      expected: 4,
      actual: 2,
    });
    expect(byTopic.get(`${prefix}state-changelog`)).toEqual({
      topic: `${prefix}state-changelog`,
      status: 'cleanup_policy_mismatch',
      expected: 'compact',
      actual: 'delete',
    });
    expect(byTopic.get(`${prefix}stripe.events`)?.status).toBe('ok');
    expect(byTopic.get(`${prefix}dlq`)).toEqual({ topic: `${prefix}dlq`, status: 'created' });

    const mismatched = catalogue.filter((spec) => spec.role === 'profiles' || spec.role === 'state-changelog');
    const described = await withAdmin(kafka, (admin) => describeTopics(admin, mismatched));
    expect(described.get(`${prefix}profiles`)?.partitions).toBe(2);
    expect(described.get(`${prefix}state-changelog`)?.configs['cleanup.policy']).toBe('delete');
  }, 60_000);

  it('reports the topics the broker refused to create, with its reason', async () => {
    // Three replicas on a one-broker cluster: Kafka refuses with INVALID_REPLICATION_FACTOR.
    const catalogue = topicCatalogue({ prefix: `${broker.prefix}refused.`, replicationFactor: 3 });
    const outcomes = await withAdmin(kafka, (admin) => ensureTopics(admin, catalogue));
    expect(statuses(outcomes)).toEqual(catalogue.map(() => 'not_created'));
    const [first] = outcomes;
    expect(first?.status === 'not_created' && first.reason).toMatch(
      /^CreateTopics failed: .*INVALID_REPLICATION_FACTOR: Replication-factor is invalid/,
    );
  }, 60_000);

  it('as a command: creates every topic and exits 0; run again, reports every one ok', () => {
    const prefix = `${broker.prefix}cli.`;
    const created = topicsCreate(broker, prefix);
    expect(created.status).toBe(0);
    expect(created.stderr).not.toContain('need attention');
    const lines = created.stdout.trim().split('\n');
    expect(lines).toHaveLength(8);
    expect(lines.every((line) => line.endsWith('  created'))).toBe(true);
    expect(created.stdout).toMatch(
      new RegExp(`^${prefix.replaceAll('.', '\\.')}state-changelog\\s+3 partitions, compact\\s+created$`, 'm'),
    );

    const again = topicsCreate(broker, prefix);
    expect(again.status).toBe(0);
    expect(
      again.stdout
        .trim()
        .split('\n')
        .every((line) => line.endsWith('  ok')),
    ).toBe(true);
  }, 60_000);

  it('as a command: exits 1 and names the topic that needs attention', async () => {
    const prefix = `${broker.prefix}cli-mismatch.`;
    await broker.createTopics([{ name: `${prefix}profiles`, partitions: 1, compacted: true }]);
    const result = topicsCreate(broker, prefix);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/profiles\s+3 partitions, compact\s+MISMATCH: 1 partitions, expected 3/);
    expect(result.stderr).toContain('1 topic(s) need attention');
  }, 60_000);

  it('as a command: names the missing variable when KAFKA_BROKERS is unset', () => {
    const result = spawnSync(process.execPath, [bin, 'topics', 'create'], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_BROKERS: '' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('KAFKA_BROKERS');
  });
});

describe('topics create on a broker without CreateTopics and DescribeConfigs (librdkafka mock)', () => {
  // needsFaults for what no real broker lacks: the mock answers neither CreateTopics nor DescribeConfigs. This is
  // how `topics create` reports such a broker (the demo's fallback) instead of crashing.
  let broker: TestBroker;

  beforeAll(async () => {
    broker = await startTestBroker({ needsFaults: true });
  }, 60_000);

  afterAll(async () => {
    await broker.stop();
  });

  it('verifies existing topics and says clearly what it could not create or check', async () => {
    const catalogue = topicCatalogue({ prefix: 'verify.', eventPartitions: 4 });
    await broker.createTopics(
      catalogue
        .filter((spec) => spec.role !== 'dlq')
        .map((spec) => ({ name: spec.name, partitions: spec.role === 'profiles' ? 2 : spec.partitions })),
    );
    const kafka = new kafkajs.Kafka({
      brokers: [...broker.bootstrapServers],
      logLevel: kafkajs.logLevel.NOTHING,
      retry: { retries: 1 },
    });
    const outcomes = await withAdmin(kafka, (admin) => ensureTopics(admin, catalogue));
    const byTopic = new Map(outcomes.map((outcome) => [outcome.topic, outcome]));
    expect(byTopic.get('verify.profiles')).toEqual({
      topic: 'verify.profiles',
      status: 'partitions_mismatch',
      expected: 4,
      actual: 2,
    });
    expect(byTopic.get('verify.stripe.events')?.status).toBe('cleanup_policy_unverified');
    const dlq = byTopic.get('verify.dlq');
    expect(dlq?.status).toBe('not_created');
    expect(dlq?.status === 'not_created' && dlq.reason).toMatch(/CreateTopics.*mock cluster/);
  }, 60_000);
});
