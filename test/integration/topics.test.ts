import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/adapters/kafka/topic-admin.js';
import { topicCatalogue } from '../../src/adapters/kafka/topic-catalogue.js';
import { startLocalBroker, type LocalBroker } from '../../src/local-broker/local-broker.js';

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/src/cli/main.js');

/** `topics create` against a real Kafka-protocol broker (the local mock cluster, which lacks CreateTopics). */
describe('topics create', () => {
  let broker: LocalBroker;

  beforeAll(async () => {
    broker = await startLocalBroker({ brokers: 1 });
  }, 60_000);

  afterAll(async () => {
    await broker.stop();
  });

  it('verifies existing topics and says clearly what it could not create or check', async () => {
    const catalogue = topicCatalogue({ prefix: 'verify.', eventPartitions: 4 });
    for (const spec of catalogue.filter((candidate) => candidate.role !== 'dlq')) {
      const partitions = spec.role === 'profiles' ? 2 : spec.partitions;
      await broker.createTopic(spec.name, partitions);
    }
    const kafka = new Kafka({
      brokers: [...broker.bootstrapServers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
    const admin = kafka.admin();
    await admin.connect();
    const outcomes = await ensureTopics(admin, catalogue);
    await admin.disconnect();
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

  it('as a command: reports every topic and exits 1 when some need attention', () => {
    const result = spawnSync(process.execPath, [bin, 'topics', 'create', '--partitions', '3'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        KAFKA_BROKERS: broker.bootstrapServers.join(','),
        KAFKA_TOPIC_PREFIX: 'cli.',
        LOG_LEVEL: 'silent',
      },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^cli\.stripe\.events\s+3 partitions, delete\s+NOT CREATED: .*CreateTopics/m);
    expect(result.stdout.trim().split('\n')).toHaveLength(8);
    expect(result.stderr).toContain('8 topic(s) need attention');
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
