import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import type { FlushReport } from '../../src/flusher/index.js';
import { createLogger } from '../../src/log/logger.js';
import { startFlusherRole } from '../../src/roles/flusher-role.js';
import { createRuntime } from '../../src/roles/runtime.js';
import { FAKE_MAVERA_KEY, startFakeMavera, type FakeMavera } from '../support/fake-mavera.js';
import { createPipelineTopics, quietKafka, waitUntil } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';
import { tiers } from '../unit/flusher/flusher-harness.js';

describe('flusher role', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let mavera: FakeMavera;

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = quietKafka(broker);
    mavera = await startFakeMavera();
  }, 120_000);

  afterAll(async () => {
    await mavera.close();
    await broker.stop();
  });

  it('a flush slower than the interval does not pile runs up behind it, so a drain ends right after it', async () => {
    const prefix = `${broker.prefix}flusher-role.`;
    const topics = await createPipelineTopics(broker, prefix, 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.profiles,
      acks: -1,
      messages: tiers.map((record) => ({ key: record.key, value: JSON.stringify(record) })),
    });
    await producer.disconnect();
    const env = loadEnv({
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      MAVERA_API_KEY: FAKE_MAVERA_KEY,
      MAVERA_BASE_URL: mavera.url,
      MAVERA_RATE_LIMIT_PER_MIN: '6000',
      FLUSH_INTERVAL_MS: '50',
    });
    const runtime = await createRuntime(env, createLogger({ level: 'silent', name: 'flusher-role-test' }), { kafka });
    // Mavera takes 3 s to list its personas: the first flush spans some 60 intervals.
    mavera.delayNext(1, 3_000, 'GET');
    const reports: FlushReport[] = [];
    // Drains (as on SIGTERM) as soon as the slow flush is done.
    let stopped: Promise<void> | undefined;
    const role = await startFlusherRole(runtime, {
      onReport: (report) => {
        reports.push(report);
        stopped ??= role.stop();
      },
    });
    await waitUntil(() => Promise.resolve(stopped !== undefined), 60_000, 'the first flush');
    await stopped;
    expect(reports[0]?.decisions).toEqual({ created: 2, updated: 0, unchanged: 0, failed: 0 });
    // One flush waited behind the slow one (the intervals during it all joined that one), and the drain's last
    // flush is that same one: nothing else ran.
    expect(reports).toHaveLength(2);
  }, 120_000);
});
