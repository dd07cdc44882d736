import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { repairWatermarkCommand } from '../../src/cli/commands/repair-watermark.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { createEntityStateCodec } from '../../src/domain/state/index.js';
import { createLogger } from '../../src/log/logger.js';
import { decodeProgress, WATERMARK_KEY } from '../../src/processor/changelog-restorer.js';
import { Processor } from '../../src/processor/processor.js';
import { StateStore } from '../../src/processor/state-store.js';
import { RepairRefusedError } from '../../src/processor/watermark-repair.js';
import {
  CANONICAL_EVENT_SCHEMA_VERSION,
  canonicalEventSchema,
  type CanonicalEvent,
} from '../../src/records/canonical-event.js';
import { deadLetterSchema } from '../../src/records/dead-letter.js';
import { profileRecordSchema, type ProfileRecord } from '../../src/records/profile-record.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { segmentCanonicalEvents } from '../../src/sources/canonical-events.js';
import { canonicalEventsOf } from '../support/generated-events.js';
import { createPipelineTopics, groupProgress, keysForEveryPartition, quietKafka } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const PARTITIONS = 2;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR_9999 = Date.UTC(9999, 11, 31, 23, 59, 59);
const pipeline = createPipeline(parsePipelineConfig({}));
const serdes = {
  event: jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema),
  profile: jsonSerde('io.personastream.Profile', profileRecordSchema),
  deadLetter: jsonSerde('io.personastream.DeadLetter', deadLetterSchema),
};

/**
 * Publishes canonical events keyed by entity, through an idempotent producer: a retried send (a partition whose
 * leader is still moving, just after the topics were created) must not write an event twice, since an older
 * version could not deduplicate the copy once its watermark ran ahead.
 */
async function publish(kafka: Kafka, topics: TopicNames, events: readonly CanonicalEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.sendBatch({
      acks: -1,
      topicMessages: (['stripe', 'segment'] as const).map((source) => ({
        topic: source === 'stripe' ? topics.stripeEvents : topics.segmentEvents,
        messages: events
          .filter((event) => event.source === source)
          .map((event) => ({ key: event.entity_key, value: JSON.stringify(event) })),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** An order as the Segment connector publishes it. */
function order(userId: string, messageId: string, at: number): CanonicalEvent {
  const message = { type: 'track', event: 'Order Completed', userId, messageId, timestamp: new Date(at).toISOString() };
  const result = segmentCanonicalEvents(JSON.stringify({ ...message, properties: { revenue: 10 } }), Date.now());
  const [event] = result.events;
  if (!result.ok || event === undefined) throw new Error('the order does not parse');
  return event;
}

/** A record from year 9999, as an older connector let through (or anyone with write access to the topic wrote). */
function fromYear9999(userId: string): CanonicalEvent {
  const timestamp = new Date(YEAR_9999).toISOString();
  return {
    event_id: `${userId}-9999`,
    source: 'segment',
    type: 'track',
    entity_key: userId,
    occurred_at: YEAR_9999,
    received_at: Date.now(),
    payload: JSON.stringify({
      type: 'track',
      event: 'Order Completed',
      userId,
      messageId: `${userId}-9999`,
      timestamp,
    }),
    schema_version: CANONICAL_EVENT_SCHEMA_VERSION,
  };
}

describe('event time from the future on a real broker', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  const directories: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = quietKafka(broker);
  }, 120_000);

  afterAll(async () => {
    await broker.stop();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  function tempDir(): string {
    const directory = mkdtempSync(join(tmpdir(), 'persona-stream-future-'));
    directories.push(directory);
    return directory;
  }

  /** The processor as the processor role runs it; `maxEventTimeSkewMs: Infinity` is how older versions behaved. */
  function startProcessor(prefix: string, topics: TopicNames, stateDir: string, maxEventTimeSkewMs?: number) {
    const store = new StateStore(stateDir);
    const processor = new Processor({
      kafka,
      topics,
      groupId: `${prefix}processor`,
      pipeline,
      codec: createEntityStateCodec(pipeline),
      store,
      serdes,
      logger: createLogger({ level: 'silent', name: 'test' }),
      now: () => Date.now(),
      refreshIntervalMs: HOUR,
      clockTickMs: 0,
      sessionTimeoutMs: 6_000,
      ...(maxEventTimeSkewMs === undefined ? {} : { maxEventTimeSkewMs }),
    });
    return {
      processor,
      stop: async () => {
        await processor.stop();
        await store.close();
      },
    };
  }

  async function processed(prefix: string, topics: TopicNames): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const progress = await groupProgress(kafka, `${prefix}processor`, [topics.stripeEvents, topics.segmentEvents]);
      if (progress.total > 0 && progress.committed === progress.total) return;
      if (Date.now() > deadline)
        throw new Error(`processed ${String(progress.committed)} of ${String(progress.total)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function profilesOn(topics: TopicNames, partition: number): Promise<Map<string, ProfileRecord>> {
    const records = (await readTopicToEnd(kafka, topics.profiles)).filter((record) => record.partition === partition);
    const table = latestByKey(records);
    return new Map([...table].map(([key, value]) => [key, profileRecordSchema.parse(JSON.parse(value.toString()))]));
  }

  async function newestProgress(topics: TopicNames, partition: number) {
    const records = await readTopicToEnd(kafka, topics.changelog);
    const progress = records.filter((record) => record.partition === partition && record.key === WATERMARK_KEY);
    const last = progress[progress.length - 1]?.value;
    return last === null || last === undefined ? undefined : decodeProgress(last);
  }

  async function repair(prefix: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
    let stdout = '';
    const io: CliIo = {
      stdout: (text) => (stdout += text),
      stderr: () => undefined,
      readInput: () => Promise.reject(new Error('repair-watermark reads no input')),
      now: () => Date.now(),
      env: {
        KAFKA_BROKERS: broker.bootstrapServers.join(','),
        KAFKA_TOPIC_PREFIX: prefix,
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        LOG_LEVEL: 'warn',
      },
    };
    const code = await repairWatermarkCommand.run(args, io);
    return { code, stdout };
  }

  it('a record from year 9999 published to the topic is dead-lettered with its reason; profiles stay judged at sane times', async () => {
    const prefix = `${broker.prefix}future.`;
    const topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    const users = keysForEveryPartition(`${prefix}u-`, PARTITIONS);
    const now = Date.now();
    const orders = users.flatMap((user) => [
      order(user, `${user}-1`, now - 2 * DAY),
      order(user, `${user}-2`, now - DAY),
    ]);
    const poisoned = users[0] ?? '';
    const running = startProcessor(prefix, topics, tempDir());
    await running.processor.start();
    await publish(kafka, topics, [...orders.slice(0, PARTITIONS), fromYear9999(poisoned), ...orders.slice(PARTITIONS)]);
    await processed(prefix, topics);
    const watermarks = [0, 1].map((partition) => running.processor.watermarkOf(partition));
    await running.stop();

    const letters = (await readTopicToEnd(kafka, topics.deadLetters)).map((record) =>
      deadLetterSchema.parse(JSON.parse(record.value?.toString() ?? 'null')),
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      topic: topics.segmentEvents,
      key: poisoned,
      error_code: 'event_time_in_future',
    });
    expect(letters[0]?.reason).toMatch(/^event time 9999-12-31T23:59:59.000Z is after /);
    for (const watermark of watermarks) expect(watermark).toBe(now - DAY);
    for (const partition of [0, 1]) {
      for (const [key, profile] of await profilesOn(topics, partition)) {
        expect(profile.as_of, key).toBe(now - DAY);
        expect(profile.fields['purchase_count'], key).toBe(2);
      }
    }
  }, 180_000);

  it('repair-watermark brings a partition an older version let run to year 9999 back, and the processor then judges at a sane time', async () => {
    const prefix = `${broker.prefix}repair.`;
    const topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    const users = keysForEveryPartition(`${prefix}u-`, PARTITIONS);
    const poisoned = users[0] ?? '';
    const start = Date.now() - 45 * DAY;
    const traffic = canonicalEventsOf(generateTraffic({ seed: 11, customers: 12, users: 12, start, months: 1 }));
    const stateDir = tempDir();

    // An older version: nothing bounds event time, so one record carries partition 0 to year 9999, and the next
    // records there are judged then (a refresh re-derives the partition's every entity at that time).
    const older = startProcessor(prefix, topics, stateDir, Number.POSITIVE_INFINITY);
    await older.processor.start();
    await publish(kafka, topics, [
      ...traffic,
      fromYear9999(poisoned),
      ...users.map((user) => order(user, `${user}-late`, Date.now() - DAY)),
    ]);
    await processed(prefix, topics);
    expect(older.processor.watermarkOf(0)).toBe(YEAR_9999);
    const before = await newestProgress(topics, 0);
    expect(before?.watermark).toBe(YEAR_9999);
    const ranAhead = [...(await profilesOn(topics, 0)).values()].filter((profile) => profile.as_of === YEAR_9999);
    expect(ranAhead.length).toBeGreaterThan(1);

    // While a processor runs, it would write its in-memory watermark back: refused.
    await expect(repair(prefix, ['--partition', '0', '--to', 'now'])).rejects.toThrow(RepairRefusedError);
    await older.stop();

    const dryRun = await repair(prefix, ['--partition', '0', '--to', 'now', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/--dry-run: nothing written/);
    expect(await newestProgress(topics, 0)).toEqual(before);

    const repairedAt = Date.now();
    const repaired = await repair(prefix, ['--partition', '0', '--to', 'now']);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toMatch(/: repaired\n/);
    expect(repaired.stdout).toMatch(/9999-12-31T23:59:59.000Z → /);
    const after = await newestProgress(topics, 0);
    expect(after?.watermark).toBeGreaterThanOrEqual(repairedAt);
    expect(after?.watermark).toBeLessThan(repairedAt + 60_000);
    expect(after?.inputs).toEqual(before?.inputs);
    for (const [key, profile] of await profilesOn(topics, 0))
      expect(profile.as_of, key).toBeLessThanOrEqual(Date.now());
    // Partition 1 never ran ahead: left alone. A target in the future, or a partition that does not exist: refused.
    expect((await repair(prefix, ['--partition', '1', '--to', 'now'])).stdout).toMatch(/nothing to repair/);
    await expect(repair(prefix, ['--partition', '0', '--to', '9999-01-01T00:00:00Z'])).rejects.toMatchObject({
      reason: 'target_out_of_range',
    });
    await expect(repair(prefix, ['--partition', '7', '--to', 'now'])).rejects.toMatchObject({
      reason: 'no_such_partition',
    });

    // The new version on the same volume: its local checkpoint still says 9999, the changelog's newest record wins.
    const current = startProcessor(prefix, topics, stateDir);
    await current.processor.start();
    await publish(kafka, topics, [order(poisoned, `${poisoned}-after`, Date.now() - HOUR)]);
    await processed(prefix, topics);
    const watermark = current.processor.watermarkOf(0);
    await current.stop();
    expect(watermark).toBe(after?.watermark);
    const table = await profilesOn(topics, 0);
    for (const [key, profile] of table) expect(profile.as_of, key).toBeLessThanOrEqual(Date.now());
    expect(table.get(`user:${poisoned}`)?.as_of).toBe(after?.watermark);
    // The runaway order itself stays in the user's state (only a replay drops it): three orders, not four counted twice.
    expect(table.get(`user:${poisoned}`)?.fields['purchase_count']).toBe(3);
  }, 240_000);
});
