import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema, type ProfileRecord } from '../../src/records/profile-record.js';
import { CONNECTOR_PUBLISH_DEADLINE_MS } from '../../src/roles/connectors-role.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { basilSubscriptionCreated } from '../fixtures/stripe-events.js';
import { freePort } from '../support/free-port.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
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

const PREFIX = 'outage.';
const STRIPE_SECRET = 'whsec_broker_outage';
const WRITE_KEY = 'outage-write-key';
const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const pipeline = createPipeline(parsePipelineConfig({}));
/** The connector's deadline plus room for a loaded CI machine: a 503 must come well before a sender gives up. */
const ANSWER_BOUND_MS = CONNECTOR_PUBLISH_DEADLINE_MS + 2_000;
/**
 * The outage's entities are keyed into partition 0 and the slow broker's into partition 1: a late copy of an
 * outage event (see below) can then never change the slow-broker counts.
 */
const [OUTAGE_CUSTOMER, SLOW_CUSTOMER] = keysForEveryPartition('cus_', 2) as [string, string];
const [OUTAGE_USER, SLOW_USER] = keysForEveryPartition('user-', 2) as [string, string];

interface Answer {
  readonly status: number;
  readonly ms: number;
}

function stripeWebhook(id: string, customer: string): string {
  const created = Math.floor(Date.now() / 1000);
  return JSON.stringify(basilSubscriptionCreated({ id, customer, created, quantity: 3, unitAmount: 4_000 }));
}

/** One Order Completed per user: a duplicate counted twice would show as purchase_count 2 and ltv 240. */
function segmentBatch(messageId: string, userId: string): string {
  const timestamp = new Date().toISOString();
  return JSON.stringify({
    batch: [{ type: 'track', event: 'Order Completed', userId, messageId, timestamp, properties: { revenue: 120 } }],
  });
}

async function timed(request: () => Promise<Response>): Promise<Answer> {
  const started = Date.now();
  const response = await request();
  await response.arrayBuffer();
  return { status: response.status, ms: Date.now() - started };
}

function deliverStripe(port: number, payload: string): Promise<Answer> {
  return timed(() =>
    fetch(`http://127.0.0.1:${String(port)}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }),
      },
      body: payload,
    }),
  );
}

function deliverSegment(port: number, body: string): Promise<Answer> {
  return timed(() =>
    fetch(`http://127.0.0.1:${String(port)}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      },
      body,
    }),
  );
}

/** The sender's retries (Stripe, Segment: exponential backoff, here 250 ms) until one is answered 200. */
async function retryUntilAccepted(deliver: () => Promise<Answer>): Promise<number[]> {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const { status } = await deliver();
    statuses.push(status);
    if (status === 200) return statuses;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return statuses;
}

async function statusOf(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

describe('broker outage under the connectors (real processes, mock broker with fault injection)', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let topics: TopicNames;
  let stripePort: number;
  let segmentPort: number;
  const connectors: ChildProcess[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-outage-'));

  /** Every canonical event on both event topics, in partition/offset order. */
  async function publishedEvents(): Promise<CanonicalEvent[]> {
    const records = [
      ...(await readTopicToEnd(kafka, topics.stripeEvents)),
      ...(await readTopicToEnd(kafka, topics.segmentEvents)),
    ];
    return Promise.all(records.map((record) => serde.decode(record.value ?? Buffer.alloc(0))));
  }

  /** Records in one partition of each event topic (its high watermark): [stripe, segment]. */
  async function recordCounts(partition: number): Promise<[number, number]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const count = async (topic: string) =>
        Number((await admin.fetchTopicOffsets(topic)).find((entry) => entry.partition === partition)?.high ?? 0);
      return [await count(topics.stripeEvents), await count(topics.segmentEvents)];
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    broker = await startTestBroker({ needsFaults: true });
    topics = await createPipelineTopics(broker, PREFIX, 2);
    kafka = quietKafka(broker);
    [stripePort, segmentPort] = [await freePort(), await freePort()];
    const [stripeMetrics, segmentMetrics] = [await freePort(), await freePort()];
    const common = { KAFKA_BROKERS: broker.bootstrapServers.join(','), KAFKA_TOPIC_PREFIX: PREFIX };
    connectors.push(
      startCli(['stripe-connector'], {
        ...common,
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
        HTTP_PORT: String(stripePort),
        METRICS_PORT: String(stripeMetrics),
      }),
      startCli(['segment-connector'], {
        ...common,
        SEGMENT_WRITE_KEYS: WRITE_KEY,
        HTTP_PORT: String(segmentPort),
        METRICS_PORT: String(segmentMetrics),
      }),
    );
    for (const port of [stripeMetrics, segmentMetrics]) {
      await waitUntil(
        async () => (await statusOf(`http://127.0.0.1:${String(port)}/readyz`)) === 200,
        30_000,
        'the connectors to be ready',
      );
    }
    // Warm: producers connected and topic metadata cached, as in a connector that has been running for a while.
    expect((await deliverStripe(stripePort, stripeWebhook('evt_warm', 'cus_warm'))).status).toBe(200);
    expect((await deliverSegment(segmentPort, segmentBatch('warm-order', 'warm-user'))).status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    for (const child of connectors) child.kill('SIGKILL');
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('broker down: both connectors answer 503 within the publish deadline; the retry after it is back is accepted and the event is on the topic once or twice, never lost', async () => {
    const faults = broker.faults!;
    const stripeDown = stripeWebhook('evt_down', OUTAGE_CUSTOMER);
    const segmentDown = segmentBatch('down-order', OUTAGE_USER);
    const before = await recordCounts(0);
    await faults.setBrokerDown(1);
    let during: Answer[];
    try {
      during = await Promise.all([deliverStripe(stripePort, stripeDown), deliverSegment(segmentPort, segmentDown)]);
    } finally {
      await faults.setBrokerUp(1);
    }
    expect(during.map((answer) => answer.status)).toEqual([503, 503]);
    for (const answer of during) expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);

    // The same bodies again, as Stripe and Segment retry a delivery answered 5xx.
    const stripeRetries = await retryUntilAccepted(() => deliverStripe(stripePort, stripeDown));
    const segmentRetries = await retryUntilAccepted(() => deliverSegment(segmentPort, segmentDown));
    for (const statuses of [stripeRetries, segmentRetries]) {
      expect(statuses.at(-1)).toBe(200);
      expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    }

    // The connector stops waiting at its deadline but cannot cancel kafkajs' send, which keeps reconnecting for
    // ~20 s: when the broker is back within that time the original send lands too, before or after the retry.
    // Whether it does depends on where kafkajs' reconnect backoff stands when the broker returns, so each topic
    // holds one copy or two of the event (same event id, key and occurred_at), which the processor counts once
    // (checked with every copy present in the processor test below).
    const [stripeAfter, segmentAfter] = await recordCounts(0);
    expect([before[0] + 1, before[0] + 2]).toContain(stripeAfter);
    expect([before[1] + 1, before[1] + 2]).toContain(segmentAfter);
  }, 60_000);

  it('slow broker: the ack comes after the deadline, so the answer is 503 although the write landed; the retry makes exactly two copies', async () => {
    const faults = broker.faults!;
    const stripeSlow = stripeWebhook('evt_slow', SLOW_CUSTOMER);
    const segmentSlow = segmentBatch('slow-order', SLOW_USER);
    const [stripeBefore, segmentBefore] = await recordCounts(1);
    // The mock appends a produce at once and holds only its response back by the round-trip time.
    await faults.setRoundTripTime(1, CONNECTOR_PUBLISH_DEADLINE_MS + 1_000);
    let during: Answer[];
    try {
      during = await Promise.all([deliverStripe(stripePort, stripeSlow), deliverSegment(segmentPort, segmentSlow)]);
    } finally {
      await faults.setRoundTripTime(1, 0);
    }
    expect(during.map((answer) => answer.status)).toEqual([503, 503]);
    for (const answer of during) expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(await recordCounts(1)).toEqual([stripeBefore + 1, segmentBefore + 1]);

    expect(await retryUntilAccepted(() => deliverStripe(stripePort, stripeSlow))).toEqual([200]);
    expect(await retryUntilAccepted(() => deliverSegment(segmentPort, segmentSlow))).toEqual([200]);
    expect(await recordCounts(1)).toEqual([stripeBefore + 2, segmentBefore + 2]);
  }, 60_000);

  it('the connectors drain on SIGTERM after the outage: exit 0, so nothing more reaches the topics', async () => {
    for (const child of connectors) child.kill('SIGTERM');
    expect(await Promise.all(connectors.map((child) => exitOf(child)))).toEqual([0, 0]);
  }, 30_000);

  it('the processor counts every duplicated delivery once: its profiles equal the offline core over one copy of each event', async () => {
    const events = await publishedEvents();
    const copies = new Map<string, CanonicalEvent[]>();
    for (const event of events) copies.set(event.event_id, [...(copies.get(event.event_id) ?? []), event]);
    const copyCount = (eventId: string) => copies.get(eventId)?.length ?? 0;
    expect([copyCount('evt_slow'), copyCount('slow-order')]).toEqual([2, 2]);
    expect([1, 2]).toContain(copyCount('evt_down'));
    expect([1, 2]).toContain(copyCount('down-order'));
    for (const same of copies.values()) {
      const identity = (event: CanonicalEvent) => [event.entity_key, event.type, event.occurred_at].join(' ');
      expect(new Set(same.map(identity)).size).toBe(1);
    }
    const firstCopies = [...copies.values()].map((same) => same[0]!);

    const processor = startCli(['processor'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: PREFIX,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      HTTP_PORT: '0',
      METRICS_PORT: '0',
    });
    try {
      await waitUntil(
        async () => {
          const progress = await groupProgress(kafka, `${PREFIX}processor`, [
            topics.stripeEvents,
            topics.segmentEvents,
          ]);
          return progress.total === events.length && progress.committed === progress.total;
        },
        60_000,
        'the processor to commit every event',
      );
    } finally {
      processor.kill('SIGTERM');
    }
    expect(await exitOf(processor)).toBe(0);

    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(profileMismatches(pipeline, offlineStates(pipeline, firstCopies), table)).toEqual([]);
    const profile = (key: string): ProfileRecord => {
      const value = table.get(key);
      if (value === undefined) throw new Error(`no profile ${key}`);
      return profileRecordSchema.parse(JSON.parse(value.toString('utf8')));
    };
    for (const customer of [OUTAGE_CUSTOMER, SLOW_CUSTOMER]) {
      expect(profile(`customer:${customer}`).revenue).toMatchObject({ mrr: 12_000, movements: { new: 12_000 } });
    }
    for (const user of [OUTAGE_USER, SLOW_USER]) {
      expect(profile(`user:${user}`).fields).toMatchObject({ purchase_count: 1, ltv: 120 });
    }
  }, 90_000);
});
