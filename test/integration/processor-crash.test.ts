import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, KafkaJSError, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicNames } from '../../src/roles/runtime.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { startCli } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const PARTITIONS = 6;
const pipeline = createPipeline(parsePipelineConfig({}));

/** A seeded generator so a failing run can be reproduced from the printed seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('processor: kill -9 at random points, restart, compare', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-crash-'));
  let prefix: string;

  beforeAll(async () => {
    broker = await startTestBroker();
    prefix = `${broker.prefix}crash.`;
    const topics = topicNames(prefix, 0);
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
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** With PERSONA_STREAM_TEST_LOG_DIR set, each processor logs at debug level to its own file there (startCli). */
  function startProcessor(): ChildProcess {
    return startCli(['processor'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      METRICS_PORT: '0',
      HTTP_PORT: '0',
    });
  }

  /**
   * Input records whose offsets the group has committed, and how many there are in all. A broker started for this
   * run answers the first offset fetches with NOT_COORDINATOR while it loads __consumer_offsets; kafkajs' admin does
   * not retry that, so retriable errors are retried here for a while.
   */
  async function progress(): Promise<{ committed: number; total: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await progressOnce();
      } catch (error) {
        if (!(error instanceof KafkaJSError) || !error.retriable || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async function progressOnce(): Promise<{ committed: number; total: number }> {
    const topics = topicNames(prefix, 0);
    const admin = kafka.admin();
    await admin.connect();
    let committed = 0;
    let total = 0;
    try {
      for (const topic of [topics.stripeEvents, topics.segmentEvents]) {
        const high = await admin.fetchTopicOffsets(topic);
        const [offsets] = await admin.fetchOffsets({ groupId: `${prefix}processor`, topics: [topic] });
        for (const partition of high) {
          const offset = offsets?.partitions.find((entry) => entry.partition === partition.partition)?.offset;
          total += Number(partition.high);
          committed += offset === undefined || offset === '-1' ? 0 : Number(offset);
        }
      }
      return { committed, total };
    } finally {
      await admin.disconnect();
    }
  }

  async function committedEverything(): Promise<boolean> {
    const { committed, total } = await progress();
    return committed === total;
  }

  it('ends with the same profiles as the offline core after at least 5 kill -9s mid-stream: no event counted twice or lost', async () => {
    const seed = Number(process.env['CRASH_SEED'] ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    const traffic = generateTraffic({ seed: 11, customers: 700, users: 700, start: Date.UTC(2026, 0, 1), months: 6 });
    const events = canonicalEventsOf(traffic);
    const topics = topicNames(prefix, 0);
    await publishCanonical(kafka, { stripe: topics.stripeEvents, segment: topics.segmentEvents }, events);

    // Kills by progress, not by time, so that how fast the processor is does not decide how many land mid-stream:
    // the stream is cut into KILLS + 1 stretches, and kill k comes once the group has committed past a random point
    // in the second half of stretch k (polled every 50 ms), then a random 0–100 ms later, so that it lands anywhere
    // in the batch under way. A restarted member first waits out the killed one's session, then restores. One
    // commit of a real broker's fetch (up to 1 MB a partition) can go past several points: the kill then comes after
    // the next commit instead of being dropped, so batch size does not decide how many kills there are either.
    const KILLS = 6;
    const { total } = await progress();
    const stretch = total / (KILLS + 1);
    const targets = Array.from({ length: KILLS }, (_, k) => Math.floor(stretch * (k + 0.5 + random() * 0.5)));
    const midStreamKills: number[] = [];
    for (const planned of targets) {
      const { committed: before } = await progress();
      if (before >= total) break;
      const target = Math.max(planned, before + 1);
      const child = startProcessor();
      const deadline = Date.now() + 120_000;
      while ((await progress()).committed < target) {
        if (Date.now() > deadline) throw new Error(`no progress to ${String(target)} (seed ${String(seed)})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 100)));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const { committed } = await progress();
      if (committed > before && committed < total) midStreamKills.push(committed);
    }
    const last = startProcessor();
    try {
      const deadline = Date.now() + 120_000;
      while (!(await committedEverything())) {
        if (Date.now() > deadline) throw new Error(`processor did not finish (seed ${String(seed)})`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      last.kill('SIGTERM');
      await new Promise((resolve) => last.once('exit', resolve));
    }
    // Each kill landed while events were still being processed (progress made, not finished).
    expect(
      midStreamKills.length,
      `seed ${String(seed)}: kills at ${midStreamKills.join(', ')} of ${String(total)}`,
    ).toBeGreaterThanOrEqual(5);
    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(profileMismatches(pipeline, offlineStates(pipeline, events), table), `seed ${String(seed)}`).toEqual([]);
  }, 420_000);
});
