import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { ensureTopics, isProblem } from '../../src/adapters/kafka/topic-admin.js';
import { topicCatalogue } from '../../src/adapters/kafka/topic-catalogue.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import type { ApacheKafka } from '../../src/local-kafka/apache-kafka.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema, type ProfileRecord } from '../../src/records/profile-record.js';
import { CONNECTOR_PUBLISH_DEADLINE_MS } from '../../src/roles/connectors-role.js';
import { topicNames, type TopicNames } from '../../src/roles/runtime.js';
import { basilSubscriptionCreated } from '../fixtures/stripe-events.js';
import { freePort } from '../support/free-port.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
import { exitOf, groupProgress, quietKafka, startCli, waitUntil } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const STRIPE_SECRET = 'whsec_broker_outage';
const WRITE_KEY = 'outage-write-key';
const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const pipeline = createPipeline(parsePipelineConfig({}));
/** The connector's deadline plus room for a loaded CI machine: a 503 must come well before a sender gives up. */
const ANSWER_BOUND_MS = CONNECTOR_PUBLISH_DEADLINE_MS + 2_000;
/** Frozen or dead for twice the publish deadline: the requests sent meanwhile get their answer before it ends. */
const OUTAGE_MS = 2 * CONNECTOR_PUBLISH_DEADLINE_MS;
/** An answer this soon after the freeze or kill may still carry an ack the broker sent just before. */
const ACK_IN_FLIGHT_MS = 1_000;
const SENDERS_PER_CONNECTOR = 3;

type Source = 'stripe' | 'segment';

interface Delivery {
  readonly source: Source;
  readonly eventId: string;
  /** The customer (Stripe) or user (Segment): one per delivery, so a duplicate counted twice shows. */
  readonly entity: string;
  readonly body: string;
  readonly started: number;
  readonly answered: number;
  readonly status: number;
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

async function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

async function statusOf(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stripe and Segment senders posting new events one after another to their connector, every answer recorded. */
class Traffic {
  readonly deliveries: Delivery[] = [];
  private stopped = false;
  private readonly running: Promise<unknown>;

  constructor(
    private readonly ports: Readonly<Record<Source, number>>,
    private readonly next: () => number,
  ) {
    const senders = (['stripe', 'segment'] as const).flatMap((source) =>
      Array.from({ length: SENDERS_PER_CONNECTOR }, () => this.send(source)),
    );
    this.running = Promise.all(senders);
  }

  async stop(): Promise<Delivery[]> {
    this.stopped = true;
    await this.running;
    return this.deliveries;
  }

  /** Deliveries of `source` answered 200 that were started at or after `since`. */
  accepted(source: Source, since = 0): number {
    return this.deliveries.filter((each) => each.source === source && each.status === 200 && each.started >= since)
      .length;
  }

  private async send(source: Source): Promise<void> {
    while (!this.stopped) {
      const n = this.next();
      const delivery =
        source === 'stripe'
          ? { source, eventId: `evt_out_${String(n)}`, entity: `cus_out_${String(n)}` }
          : { source, eventId: `out-order-${String(n)}`, entity: `user-out-${String(n)}` };
      const body =
        source === 'stripe'
          ? stripeWebhook(delivery.eventId, delivery.entity)
          : segmentBatch(delivery.eventId, delivery.entity);
      const started = Date.now();
      const status = await deliver(this.ports, source, body);
      this.deliveries.push({ ...delivery, body, started, answered: Date.now(), status });
      await sleep(100);
    }
  }
}

function deliver(ports: Readonly<Record<Source, number>>, source: Source, body: string): Promise<number> {
  if (source === 'stripe') {
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET });
    return post(`http://127.0.0.1:${String(ports.stripe)}/webhooks/stripe`, { 'stripe-signature': signature }, body);
  }
  const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  return post(`http://127.0.0.1:${String(ports.segment)}/v1/batch`, { authorization }, body);
}

/** What an outage did to each connector's answers, for the assertions and the log line. */
function outageReport(deliveries: readonly Delivery[], downFrom: number, downUntil: number, upAt: number) {
  return (['stripe', 'segment'] as const).map((source) => {
    const mine = deliveries.filter((each) => each.source === source);
    const whileDown = mine.filter((each) => each.answered > downFrom + ACK_IN_FLIGHT_MS && each.answered < downUntil);
    const firstAcceptedAfter = Math.min(
      ...mine.filter((each) => each.status === 200 && each.answered >= upAt).map((each) => each.answered),
    );
    return {
      source,
      whileDown: whileDown.map((each) => each.status),
      refused: mine.filter((each) => each.status !== 200),
      acceptedAgainAfterMs: firstAcceptedAfter - upAt,
    };
  });
}

describe('broker outage under the connectors (real processes, a dedicated Apache Kafka)', () => {
  let broker: TestBroker;
  let kafkaProcess: ApacheKafka;
  let kafka: Kafka;
  let topics: TopicNames;
  let prefix: string;
  let ports: Record<Source, number>;
  const connectors: ChildProcess[] = [];
  const deliveries: Delivery[] = [];
  let sequence = 0;
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-outage-'));

  /** Every canonical event on both event topics, in partition/offset order. */
  async function publishedEvents(): Promise<CanonicalEvent[]> {
    const records = [
      ...(await readTopicToEnd(kafka, topics.stripeEvents)),
      ...(await readTopicToEnd(kafka, topics.segmentEvents)),
    ];
    return Promise.all(records.map((record) => serde.decode(record.value ?? Buffer.alloc(0))));
  }

  async function copiesById(): Promise<Map<string, number>> {
    const copies = new Map<string, number>();
    for (const event of await publishedEvents()) copies.set(event.event_id, (copies.get(event.event_id) ?? 0) + 1);
    return copies;
  }

  /** Traffic until both connectors accepted some, then `outage`, then until both accept again; its deliveries. */
  async function trafficAround(outage: () => Promise<number>): Promise<{ deliveries: Delivery[]; upAt: number }> {
    const traffic = new Traffic(ports, () => sequence++);
    try {
      await waitUntil(
        () => Promise.resolve(traffic.accepted('stripe') >= 10 && traffic.accepted('segment') >= 10),
        30_000,
        'both connectors to accept traffic',
      );
      const upAt = await outage();
      await waitUntil(
        () => Promise.resolve(traffic.accepted('stripe', upAt) >= 5 && traffic.accepted('segment', upAt) >= 5),
        60_000,
        'both connectors to accept again',
      );
      return { deliveries: await traffic.stop(), upAt };
    } finally {
      deliveries.push(...(await traffic.stop()));
    }
  }

  beforeAll(async () => {
    broker = await startTestBroker({ dedicated: true });
    if (broker.process === undefined) throw new Error('a dedicated broker has its process');
    kafkaProcess = broker.process;
    prefix = `${broker.prefix}outage.`;
    kafka = quietKafka(broker);
    // As `topics create` makes them: the configs of production.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const outcomes = await ensureTopics(admin, topicCatalogue({ prefix, eventPartitions: 2 }));
      expect(outcomes.filter(isProblem)).toEqual([]);
    } finally {
      await admin.disconnect();
    }
    topics = topicNames(prefix, 0);
    ports = { stripe: await freePort(), segment: await freePort() };
    const [stripeMetrics, segmentMetrics] = [await freePort(), await freePort()];
    const common = {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      // kafkajs takes its reconnect back-off from NODE_ENV, which vitest sets to "test": run as in production.
      NODE_ENV: 'production',
    };
    connectors.push(
      startCli(['stripe-connector'], {
        ...common,
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
        HTTP_PORT: String(ports.stripe),
        METRICS_PORT: String(stripeMetrics),
      }),
      startCli(['segment-connector'], {
        ...common,
        SEGMENT_WRITE_KEYS: WRITE_KEY,
        HTTP_PORT: String(ports.segment),
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
  }, 120_000);

  afterAll(async () => {
    for (const child of connectors) child.kill('SIGKILL');
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('broker frozen (SIGSTOP) mid-stream: both connectors answer 503 within the deadline, and 200 again after SIGCONT', async () => {
    let frozenAt = 0;
    let thawedAt = 0;
    const { deliveries: answers, upAt } = await trafficAround(async () => {
      frozenAt = Date.now();
      kafkaProcess.pause();
      await sleep(OUTAGE_MS);
      thawedAt = Date.now();
      kafkaProcess.resume();
      return thawedAt;
    });
    const report = outageReport(answers, frozenAt, thawedAt, upAt);
    logOutage('frozen', thawedAt - frozenAt, report);
    for (const { whileDown, refused, acceptedAgainAfterMs } of report) {
      expect(whileDown.length).toBeGreaterThan(0);
      expect(whileDown.every((status) => status === 503)).toBe(true);
      expect(refused.every((each) => each.status === 503 && each.answered - each.started < ANSWER_BOUND_MS)).toBe(true);
      expect(acceptedAgainAfterMs).toBeLessThan(10_000);
    }
  }, 120_000);

  it('broker killed (SIGKILL) mid-stream and restarted on its log dir: 503 while it is down, 200 again once it is back', async () => {
    let killedAt = 0;
    let restartingAt = 0;
    const { deliveries: answers, upAt } = await trafficAround(async () => {
      killedAt = Date.now();
      await kafkaProcess.kill();
      await sleep(OUTAGE_MS);
      restartingAt = Date.now();
      await kafkaProcess.restart();
      return Date.now();
    });
    const report = outageReport(answers, killedAt, restartingAt, upAt);
    logOutage(`killed (restart took ${String(upAt - restartingAt)} ms)`, restartingAt - killedAt, report);
    for (const { whileDown, refused, acceptedAgainAfterMs } of report) {
      expect(whileDown.length).toBeGreaterThan(0);
      expect(whileDown.every((status) => status === 503)).toBe(true);
      expect(refused.every((each) => each.status === 503 && each.answered - each.started < ANSWER_BOUND_MS)).toBe(true);
      // kafkajs reconnects with a back-off of up to 4.8 s (its production defaults) before a new producer id.
      expect(acceptedAgainAfterMs).toBeLessThan(20_000);
    }
  }, 180_000);

  it('every event answered 200 is on its topic exactly once, and none answered 503 is there twice', async () => {
    const copies = await copiesById();
    const accepted = deliveries.filter((each) => each.status === 200);
    expect(accepted.length).toBeGreaterThan(40);
    expect(accepted.filter((each) => copies.get(each.eventId) !== 1).map((each) => each.eventId)).toEqual([]);
    expect([...copies].filter(([, count]) => count > 1)).toEqual([]);
    // A 503 may still have been written: its send was on its way when the deadline passed (it lands once the broker
    // answers again). What was still queued then was dropped. Frozen, each connector has one such send: the one
    // in flight at SIGSTOP, or else the first one after it.
    const refused = deliveries.filter((each) => each.status !== 200);
    const landed = refused.filter((each) => copies.has(each.eventId));
    expect(new Set(landed.map((each) => each.source))).toEqual(new Set(['stripe', 'segment']));
    process.stderr.write(
      `broker-outage: ${String(accepted.length)} deliveries answered 200, ${String(refused.length)} answered 503 ` +
        `(${String(landed.length)} of those written anyway)\n`,
    );
  }, 60_000);

  it("the senders' retries of every 503 are accepted; one answered 503 but written is then there twice", async () => {
    const refused = deliveries.filter((each) => each.status !== 200);
    const before = await copiesById();
    for (const delivery of refused) {
      let status = 0;
      for (let attempt = 0; attempt < 5 && status !== 200; attempt++) {
        status = await deliver(ports, delivery.source, delivery.body);
      }
      expect({ eventId: delivery.eventId, status }).toEqual({ eventId: delivery.eventId, status: 200 });
    }
    const after = await copiesById();
    for (const delivery of refused) {
      expect({ eventId: delivery.eventId, copies: after.get(delivery.eventId) }).toEqual({
        eventId: delivery.eventId,
        copies: (before.get(delivery.eventId) ?? 0) + 1,
      });
    }
  }, 120_000);

  it('the connectors drain on SIGTERM after the outages: exit 0, so nothing more reaches the topics', async () => {
    for (const child of connectors) child.kill('SIGTERM');
    expect(await Promise.all(connectors.map((child) => exitOf(child)))).toEqual([0, 0]);
  }, 30_000);

  it('the processor counts every duplicated delivery once: its profiles equal the offline core over one copy of each event', async () => {
    const events = await publishedEvents();
    const firstCopies = new Map<string, CanonicalEvent>();
    for (const event of events) if (!firstCopies.has(event.event_id)) firstCopies.set(event.event_id, event);
    expect(firstCopies.size).toBeLessThan(events.length);

    const processor = startCli(['processor'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      HTTP_PORT: '0',
      METRICS_PORT: '0',
    });
    try {
      await waitUntil(
        async () => {
          const progress = await groupProgress(kafka, `${prefix}processor`, [
            topics.stripeEvents,
            topics.segmentEvents,
          ]);
          return progress.total === events.length && progress.committed === progress.total;
        },
        90_000,
        'the processor to commit every event',
      );
    } finally {
      processor.kill('SIGTERM');
    }
    expect(await exitOf(processor)).toBe(0);

    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(profileMismatches(pipeline, offlineStates(pipeline, [...firstCopies.values()]), table)).toEqual([]);
    const profile = (key: string): ProfileRecord => {
      const value = table.get(key);
      if (value === undefined) throw new Error(`no profile ${key}`);
      return profileRecordSchema.parse(JSON.parse(value.toString('utf8')));
    };
    for (const delivery of deliveries) {
      if (delivery.source === 'stripe') {
        expect(profile(`customer:${delivery.entity}`).revenue).toMatchObject({
          mrr: 12_000,
          movements: { new: 12_000 },
        });
      } else {
        expect(profile(`user:${delivery.entity}`).fields).toMatchObject({ purchase_count: 1, ltv: 120 });
      }
    }
  }, 150_000);
});

function logOutage(what: string, outageMs: number, report: ReturnType<typeof outageReport>): void {
  const parts = report.map(
    ({ source, whileDown, acceptedAgainAfterMs }) =>
      `${source} ${String(whileDown.length)} × 503, 200 again after ${String(acceptedAgainAfterMs)} ms`,
  );
  process.stderr.write(`broker-outage: broker ${what} for ${String(outageMs)} ms: ${parts.join('; ')}\n`);
}
