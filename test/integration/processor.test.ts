import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { EntityStates } from '../../src/domain/pipeline/entity-states.js';
import { createPipeline, deriveProfile } from '../../src/domain/pipeline/pipeline.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema } from '../../src/records/canonical-event.js';
import { deadLetterSchema } from '../../src/records/dead-letter.js';
import { profileRecordSchema, profileToRecord } from '../../src/records/profile-record.js';
import { decodeCanonicalEvent } from '../../src/sources/canonical-events.js';
import { Processor, type ProcessorObserver } from '../../src/processor/processor.js';
import { StateStore } from '../../src/processor/state-store.js';
import { createEntityStateCodec } from '../../src/domain/state/index.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const PARTITIONS = 4;
const logger = createLogger({ level: 'silent', name: 'test' });
const pipeline = createPipeline(parsePipelineConfig({}));
const serdes = {
  event: jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema),
  profile: jsonSerde('io.personastream.Profile', profileRecordSchema),
  deadLetter: jsonSerde('io.personastream.DeadLetter', deadLetterSchema),
};

describe('processor: state, changelog and profiles on a real broker', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let topics: {
    stripeEvents: string;
    segmentEvents: string;
    changelog: string;
    profiles: string;
    deadLetters: string;
  };
  const directories: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    const p = broker.prefix;
    topics = {
      stripeEvents: `${p}stripe.events`,
      segmentEvents: `${p}segment.events`,
      changelog: `${p}state-changelog`,
      profiles: `${p}profiles`,
      deadLetters: `${p}dlq`,
    };
    await broker.createTopics([
      { name: topics.stripeEvents, partitions: PARTITIONS },
      { name: topics.segmentEvents, partitions: PARTITIONS },
      { name: topics.changelog, partitions: PARTITIONS, compacted: true },
      { name: topics.profiles, partitions: PARTITIONS, compacted: true },
      { name: topics.deadLetters, partitions: 1 },
    ]);
    kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
  }, 120_000);

  afterAll(async () => {
    await broker.stop();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  function startProcessor(stateDir: string, observer?: ProcessorObserver) {
    const store = new StateStore(stateDir);
    const processor = new Processor({
      kafka,
      topics,
      groupId: `${broker.prefix}processor`,
      pipeline,
      codec: createEntityStateCodec(pipeline),
      store,
      serdes,
      logger,
      now: () => Date.now(),
      refreshIntervalMs: 3_600_000,
      clockTickMs: 0,
      sessionTimeoutMs: 10_000,
      ...(observer === undefined ? {} : { observer }),
    });
    return { processor, store };
  }

  function tempDir(): string {
    const directory = mkdtempSync(join(tmpdir(), 'persona-stream-processor-'));
    directories.push(directory);
    return directory;
  }

  async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('derives every profile exactly as the offline core does, dead-letters a poison record and keeps going, and restores after a restart', async () => {
    const traffic = generateTraffic({ seed: 7, customers: 30, users: 30, start: Date.UTC(2026, 0, 1), months: 4 });
    const events = canonicalEventsOf(traffic);
    const half = Math.floor(events.length / 2);

    let consumed = 0;
    const deadLetters: string[] = [];
    const observer: ProcessorObserver = {
      batchProcessed: (report) => {
        consumed += report.records;
        deadLetters.push(...report.deadLetters.map((letter) => letter.error_code));
      },
    };
    const stateDir = tempDir();
    const first = startProcessor(stateDir, observer);
    await first.processor.start();
    await publishCanonical(
      kafka,
      { stripe: topics.stripeEvents, segment: topics.segmentEvents },
      events.slice(0, half),
    );
    // A poison record between good ones: not JSON at all.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.segmentEvents, messages: [{ key: 'poison', value: '{not json' }] });
    await producer.disconnect();
    await waitFor(() => consumed >= half + 1);
    await first.processor.stop();
    await first.store.close();

    // The second half is processed by a new instance with an EMPTY local store: it must restore from the changelog.
    const second = startProcessor(tempDir(), observer);
    await second.processor.start();
    await publishCanonical(kafka, { stripe: topics.stripeEvents, segment: topics.segmentEvents }, events.slice(half));
    await waitFor(() => consumed >= events.length + 1);
    await second.processor.stop();
    await second.store.close();

    expect(deadLetters).toEqual(['not_json']);
    const dlq = await readTopicToEnd(kafka, topics.deadLetters);
    expect(dlq).toHaveLength(1);
    const letter = deadLetterSchema.parse(JSON.parse(dlq[0]?.value?.toString('utf8') ?? 'null'));
    expect(letter).toMatchObject({ topic: topics.segmentEvents, key: 'poison', error_code: 'not_json' });

    const offline = new EntityStates(pipeline);
    for (const event of events) {
      const inputs = decodeCanonicalEvent(event);
      if (inputs instanceof Error) throw inputs;
      for (const input of inputs) offline.apply(input);
    }
    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(table.size).toBe(offline.size);
    for (const [key, value] of table) {
      const record = profileRecordSchema.parse(JSON.parse(value.toString('utf8')));
      const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      const state = kind === 'customer' ? offline.customers.get(id) : offline.users.get(id);
      expect(state, key).toBeDefined();
      if (state === undefined) continue;
      expect(record, key).toEqual(profileToRecord(deriveProfile(pipeline, state, record.as_of)));
    }
  }, 180_000);
});
