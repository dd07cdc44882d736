import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
import {
  createPipelineTopics,
  exitOf,
  groupProgress,
  quietKafka,
  startCli,
  waitUntil,
} from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const PARTITIONS = 6;
const pipeline = createPipeline(parsePipelineConfig({}));

describe('processor group: a member added and another killed mid-stream', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let topics: TopicNames;
  let prefix: string;
  const directories = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'persona-stream-rebalance-')));

  beforeAll(async () => {
    broker = await startTestBroker();
    prefix = `${broker.prefix}rebalance.`;
    topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    kafka = quietKafka(broker);
  }, 120_000);

  // Whatever a failing test leaves running must not outlive the suite.
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await broker.stop();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  const processor = (stateDir: string) => {
    const child = startCli(['processor'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      METRICS_PORT: '0',
    });
    children.push(child);
    return child;
  };

  it('ends with the profiles of the offline core: the survivor restores the dead member’s partitions', async () => {
    const traffic = generateTraffic({ seed: 3, customers: 500, users: 500, start: Date.UTC(2026, 0, 1), months: 6 });
    const events = canonicalEventsOf(traffic);
    const eventTopics = [topics.stripeEvents, topics.segmentEvents];
    const group = `${prefix}processor`;
    const progress = async () => (await groupProgress(kafka, group, eventTopics)).committed;
    const third = Math.floor(events.length / 3);

    const first = processor(directories[0] ?? '');
    await publishCanonical(
      kafka,
      { stripe: topics.stripeEvents, segment: topics.segmentEvents },
      events.slice(0, third),
    );
    await waitUntil(async () => (await progress()) > 0, 60_000, 'the first member to make progress');

    // A second member joins: the group rebalances and the partitions are split between the two.
    const second = processor(directories[1] ?? '');
    await publishCanonical(
      kafka,
      { stripe: topics.stripeEvents, segment: topics.segmentEvents },
      events.slice(third, 2 * third),
    );
    const afterJoin = await progress();
    await waitUntil(async () => (await progress()) > afterJoin, 60_000, 'progress after the second member joined');

    // The first member dies mid-stream; after its session times out the survivor restores its partitions.
    await publishCanonical(
      kafka,
      { stripe: topics.stripeEvents, segment: topics.segmentEvents },
      events.slice(2 * third),
    );
    first.kill('SIGKILL');
    await exitOf(first);
    try {
      await waitUntil(
        async () => {
          const { committed, total } = await groupProgress(kafka, group, eventTopics);
          return committed === total && total === events.length;
        },
        120_000,
        'the survivor to process every event',
      );
    } finally {
      second.kill('SIGTERM');
    }
    expect(await exitOf(second)).toBe(0);

    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(profileMismatches(pipeline, offlineStates(pipeline, events), table)).toEqual([]);
  }, 300_000);
});
