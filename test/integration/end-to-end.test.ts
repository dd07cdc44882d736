import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { runCli } from '../../src/cli/main.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { FAKE_MAVERA_KEY, startFakeMavera, type FakeMavera } from '../support/fake-mavera.js';
import { freePort } from '../support/free-port.js';
import {
  createPipelineTopics,
  exitOf,
  groupProgress,
  keysForEveryPartition,
  quietKafka,
  startCli,
  waitUntil,
} from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const PARTITIONS = 4;
const HOUR = 3_600_000;
const WEBHOOK_SECRET = 'whsec_end_to_end';
const WRITE_KEY = 'e2e-write-key';

async function metricValue(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('end to end: connectors → processor → flusher → Mavera, as real processes', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let mavera: FakeMavera;
  let topics: TopicNames;
  let prefix: string;
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-e2e-'));

  beforeAll(async () => {
    broker = await startTestBroker();
    prefix = `${broker.prefix}e2e.`;
    topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    kafka = quietKafka(broker);
    mavera = await startFakeMavera({ ratePerMinute: 10_000 });
  }, 120_000);

  afterAll(async () => {
    await mavera.close();
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('creates exactly the personas `simulate` computes for the same events, once each', async () => {
    const traffic = generateTraffic({ seed: 21, customers: 80, users: 80, start: Date.UTC(2026, 0, 1), months: 4 });
    // One last Segment event in every partition, in a fresh hour: every partition's watermark ends at the same
    // instant, and every profile is evaluated then — the instant `simulate --at` is given.
    const end = (Math.floor(Math.max(...traffic.map((event) => event.at)) / HOUR) + 2) * HOUR;
    const closing = keysForEveryPartition('clock-', PARTITIONS).map((userId, index) => ({
      type: 'track',
      event: 'Clock Ticked',
      userId,
      messageId: `clock-${String(index)}`,
      timestamp: new Date(end).toISOString(),
      properties: {},
    }));

    const [httpPort, metricsPort] = [await freePort(), await freePort()];
    const child = startCli(['all'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      HTTP_PORT: String(httpPort),
      METRICS_PORT: String(metricsPort),
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      SEGMENT_WRITE_KEYS: WRITE_KEY,
      SEGMENT_SHARED_SECRET: 'e2e-shared-secret',
      MAVERA_API_KEY: FAKE_MAVERA_KEY,
      MAVERA_BASE_URL: mavera.url,
      FLUSH_INTERVAL_MS: String(24 * HOUR),
    });
    try {
      await waitUntil(
        async () => {
          try {
            return (await fetch(`http://127.0.0.1:${String(metricsPort)}/readyz`)).status === 200;
          } catch {
            return false;
          }
        },
        90_000,
        'the all-in-one process to be ready',
      );

      const base = `http://127.0.0.1:${String(httpPort)}`;
      const stripeEvents = traffic
        .filter((event) => event.source === 'stripe')
        .map((event) => JSON.stringify(event.raw));
      for (let i = 0; i < stripeEvents.length; i += 8) {
        const answers = await Promise.all(
          stripeEvents.slice(i, i + 8).map(async (payload) =>
            fetch(`${base}/webhooks/stripe`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
              },
              body: payload,
            }),
          ),
        );
        expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      }
      // A poison record on an event topic, between good ones: dead-lettered, and processing goes on.
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: topics.segmentEvents,
        messages: [{ key: 'poison', value: '{"not a canonical event' }],
      });
      await producer.disconnect();
      const messages = traffic.filter((event) => event.source === 'segment').map((event) => event.raw);
      const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
      for (const batch of [...chunks(messages, 50), closing]) {
        const answer = await fetch(`${base}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ batch }),
        });
        expect(answer.status).toBe(200);
      }

      await waitUntil(
        async () => {
          const progress = await groupProgress(kafka, `${prefix}processor`, [
            topics.stripeEvents,
            topics.segmentEvents,
          ]);
          return progress.total > 0 && progress.committed === progress.total;
        },
        120_000,
        'the processor to commit every event',
      );
      const admin = kafka.admin();
      await admin.connect();
      const profileRecords = (await admin.fetchTopicOffsets(topics.profiles)).reduce(
        (sum, partition) => sum + Number(partition.high),
        0,
      );
      await admin.disconnect();
      await waitUntil(
        async () =>
          (await metricValue(metricsPort, 'persona_stream_records_consumed_total', `topic="${topics.profiles}"`)) >=
          profileRecords,
        60_000,
        'the flusher to read every profile',
      );
      expect(mavera.requestsTo('POST')).toHaveLength(0);
    } finally {
      // SIGTERM: drain, with the flusher's last flush — here its first, over the complete profiles table.
      child.kill('SIGTERM');
    }
    expect(await exitOf(child)).toBe(0);

    const deadLetters = await readTopicToEnd(kafka, topics.deadLetters);
    expect(deadLetters.map((record) => JSON.parse(record.value?.toString('utf8') ?? '{}') as unknown)).toEqual([
      expect.objectContaining({ topic: topics.segmentEvents, key: 'poison', error_code: 'not_json' }),
    ]);

    const eventsFile = join(stateDir, 'events.ndjson');
    writeFileSync(
      eventsFile,
      [...traffic.map((event) => JSON.stringify(event.raw)), ...closing.map((message) => JSON.stringify(message))].join(
        '\n',
      ),
    );
    let output = '';
    const code = await runCli(['simulate', '--events', eventsFile, '--at', new Date(end).toISOString(), '--json'], {
      stdout: (text) => (output += text),
      stderr: () => undefined,
      readInput: async (path) => (await import('node:fs/promises')).readFile(path, 'utf8'),
      now: () => end,
      env: {},
    });
    expect(code).toBe(0);
    const simulated = (JSON.parse(output) as { personas: { payload: { name: string } }[] }).personas;
    expect(simulated.length).toBeGreaterThan(3);

    const creates = mavera.requestsTo('POST').map((request) => request.body as { name: string });
    expect(mavera.requestsTo('PATCH')).toHaveLength(0);
    expect(creates.map((body) => body.name).sort()).toEqual(simulated.map((plan) => plan.payload.name).sort());
    for (const plan of simulated) {
      expect(creates.find((body) => body.name === plan.payload.name)).toEqual(plan.payload);
    }
  }, 300_000);
});

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
