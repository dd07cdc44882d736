import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { latestByKey, readTopicToEnd, type ReadRecord } from '../../src/adapters/kafka/topic-reader.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline, deriveProfile, type EntityState } from '../../src/domain/pipeline/pipeline.js';
import { createEntityStateCodec } from '../../src/domain/state/index.js';
import { WATERMARK_KEY } from '../../src/processor/changelog-restorer.js';
import { decodeStored } from '../../src/processor/state-store.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileToRecord } from '../../src/records/profile-record.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { basilSubscriptionCreated } from '../fixtures/stripe-events.js';
import { freePort } from '../support/free-port.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
import { createPipelineTopics, exitOf, quietKafka, startCli, waitUntil } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const PARTITIONS = 4;
const GRACE_MS = 15_000;
const WEBHOOK_SECRET = 'whsec_drain';
const pipeline = createPipeline(parsePipelineConfig({}));
const codec = createEntityStateCodec(pipeline);
const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Committed next offset per `topic:partition` (absent: nothing committed there). */
type CommittedOffsets = ReadonlyMap<string, bigint>;

async function committedOffsets(admin: Admin, groupId: string, topics: readonly string[]): Promise<CommittedOffsets> {
  const committed = new Map<string, bigint>();
  for (const entry of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const { partition, offset } of entry.partitions) {
      if (offset !== '-1') committed.set(`${entry.topic}:${String(partition)}`, BigInt(offset));
    }
  }
  return committed;
}

function sumOf(committed: CommittedOffsets): number {
  let sum = 0;
  for (const offset of committed.values()) sum += Number(offset);
  return sum;
}

function decodeEvents(records: readonly ReadRecord[]): Promise<CanonicalEvent[]> {
  return Promise.all(records.map((record) => serde.decode(record.value ?? Buffer.alloc(0))));
}

async function readyStatus(metricsPort: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${String(metricsPort)}/readyz`)).status;
  } catch {
    return 0;
  }
}

/** True once a TCP connection to the port is refused: the server no longer listens. */
function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'ECONNREFUSED');
    });
  });
}

function signedWebhook(id: string): { readonly payload: string; readonly signature: string } {
  const created = Math.floor(Date.now() / 1000);
  const payload = JSON.stringify(
    basilSubscriptionCreated({ id, customer: `cus_${id}`, created, quantity: 1, unitAmount: 9_900 }),
  );
  return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) };
}

interface HeldAnswer {
  readonly status: number;
  readonly connection: string | undefined;
  /** From the end of the answer to the server closing the connection. */
  readonly closedAfterMs: number;
}

/**
 * A webhook delivery caught mid-request: headers and half the body sent on a keep-alive connection, the rest only
 * when `finish` is called. While it is open the server has accepted it and must answer it, whatever else happens.
 */
function holdDelivery(port: number, id: string): { finish(): Promise<HeldAnswer>; abandon(): void } {
  const { payload, signature } = signedWebhook(id);
  const body = Buffer.from(payload);
  const half = Math.floor(body.length / 2);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let answered: (answer: HeldAnswer) => void = () => {};
  let failed: (error: Error) => void = () => {};
  const answer = new Promise<HeldAnswer>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  const held: ClientRequest = request(
    {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/webhooks/stripe',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'stripe-signature': signature,
      },
    },
    (response) => {
      response.resume();
      response.once('end', () => {
        const endedAt = Date.now();
        const socket = response.socket;
        const report = () => {
          answered({
            status: response.statusCode ?? 0,
            connection: response.headers.connection,
            closedAfterMs: Date.now() - endedAt,
          });
        };
        if (socket.destroyed) report();
        else socket.once('close', report);
      });
    },
  );
  held.once('error', (error) => {
    failed(error);
  });
  // An abandoned delivery fails when its server goes; that is expected, not an unhandled rejection.
  answer.catch(() => undefined);
  held.flushHeaders();
  held.write(body.subarray(0, half));
  return {
    finish: () => {
      held.end(body.subarray(half));
      return answer.finally(() => {
        agent.destroy();
      });
    },
    abandon: () => {
      held.destroy();
      agent.destroy();
    },
  };
}

async function deliver(port: number, id: string): Promise<number> {
  const { payload, signature } = signedWebhook(id);
  const response = await fetch(`http://127.0.0.1:${String(port)}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  await response.arrayBuffer();
  return response.status;
}

describe('drain on SIGTERM', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-drain-'));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = quietKafka(broker);
    admin = kafka.admin();
    await admin.connect();
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => exitOf(child)));
    await admin.disconnect();
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  function start(command: string, env: Record<string, string>): ChildProcess {
    const child = startCli([command], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      PROCESSOR_CLOCK_TICK_MS: '0',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      ...env,
    });
    // The flusher's dry-run diff goes to stdout; nobody reads it here.
    child.stdout?.resume();
    children.push(child);
    return child;
  }

  it('the processor, mid-stream: finishes the batches in hand, commits exactly what its changelog and profiles hold and exits 0; restarted, it ends with nothing lost or counted twice', async () => {
    const prefix = `${broker.prefix}drain.`;
    const topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    const inputTopics = [topics.stripeEvents, topics.segmentEvents];
    const group = `${prefix}processor`;
    const traffic = generateTraffic({ seed: 5, customers: 150, users: 150, start: Date.UTC(2026, 0, 1), months: 6 });
    const events = canonicalEventsOf(traffic);
    await publishCanonical(kafka, { stripe: topics.stripeEvents, segment: topics.segmentEvents }, events);
    const processorEnv = {
      KAFKA_TOPIC_PREFIX: prefix,
      STATE_DIR: join(stateDir, 'processor'),
      HTTP_PORT: '0',
      METRICS_PORT: '0',
    };

    const first = start('processor', processorEnv);
    let committedAtSignal = 0;
    const deadline = Date.now() + 60_000;
    while ((committedAtSignal = sumOf(await committedOffsets(admin, group, inputTopics))) === 0) {
      if (Date.now() > deadline) throw new Error('the processor committed nothing within 60 s');
      await sleep(20);
    }
    const signalledAt = Date.now();
    first.kill('SIGTERM');
    expect(await exitOf(first)).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(GRACE_MS);

    // Stopped mid-stream: progress made, the stream not finished.
    const committed = await committedOffsets(admin, group, inputTopics);
    expect(sumOf(committed)).toBeGreaterThanOrEqual(committedAtSignal);
    expect(sumOf(committed)).toBeLessThan(events.length);

    // The state holds exactly the events below the committed offsets: the changelog's entities, their states, each
    // partition's watermark and the profiles are what the offline core makes of those events and of nothing else.
    const [stripeRecords, segmentRecords, changelog, profiles] = await Promise.all(
      [topics.stripeEvents, topics.segmentEvents, topics.changelog, topics.profiles].map((topic) =>
        readTopicToEnd(kafka, topic),
      ),
    );
    const committedEvents: CanonicalEvent[] = [];
    const watermarks = new Map<number, number>();
    for (const [topic, records] of [
      [topics.stripeEvents, stripeRecords ?? []],
      [topics.segmentEvents, segmentRecords ?? []],
    ] as const) {
      const below = records.filter(
        (record) => BigInt(record.offset) < (committed.get(`${topic}:${String(record.partition)}`) ?? 0n),
      );
      const decoded = await decodeEvents(below);
      committedEvents.push(...decoded);
      below.forEach((record, index) => {
        const at = decoded[index]?.occurred_at ?? Number.NEGATIVE_INFINITY;
        watermarks.set(record.partition, Math.max(watermarks.get(record.partition) ?? Number.NEGATIVE_INFINITY, at));
      });
    }
    expect(committedEvents).toHaveLength(sumOf(committed));
    const expected = offlineStates(pipeline, committedEvents);
    const stateRecords = latestByKey((changelog ?? []).filter((record) => record.key !== WATERMARK_KEY));
    const expectedKeys = [
      ...[...expected.customers.keys()].map((id) => `customer:${id}`),
      ...[...expected.users.keys()].map((id) => `user:${id}`),
    ];
    expect([...stateRecords.keys()].sort()).toEqual(expectedKeys.sort());
    // Compared through the profile at one instant after every event: advancing a state to its partition's
    // watermark changes nothing an evaluation at or after that watermark reports.
    const at = Math.max(...events.map((event) => event.occurred_at));
    const profileAt = (state: EntityState | undefined) =>
      state === undefined ? undefined : profileToRecord(deriveProfile(pipeline, state, at));
    const stateMismatches = [...stateRecords].filter(([key, value]) => {
      const id = key.slice(key.indexOf(':') + 1);
      const offline = key.startsWith('customer:') ? expected.customers.get(id) : expected.users.get(id);
      const actual = codec.decode(decodeStored(value).state);
      return JSON.stringify(profileAt(actual)) !== JSON.stringify(profileAt(offline));
    });
    expect(stateMismatches.map(([key]) => key)).toEqual([]);
    const changelogWatermarks = new Map<number, number>();
    for (const record of changelog ?? []) {
      if (record.key === WATERMARK_KEY && record.value !== null) {
        changelogWatermarks.set(record.partition, record.value.readDoubleBE(0));
      }
    }
    expect(changelogWatermarks).toEqual(watermarks);
    expect(profileMismatches(pipeline, expected, latestByKey(profiles ?? []))).toEqual([]);

    // Restarted, it restores that state and finishes the stream.
    const second = start('processor', processorEnv);
    try {
      await waitUntil(
        async () => sumOf(await committedOffsets(admin, group, inputTopics)) === events.length,
        120_000,
        'the restarted processor to finish the stream',
      );
    } finally {
      second.kill('SIGTERM');
    }
    expect(await exitOf(second)).toBe(0);
    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(profileMismatches(pipeline, offlineStates(pipeline, events), table)).toEqual([]);
  }, 300_000);

  describe('`all` with webhooks in flight', () => {
    let topics: TopicNames;
    let prefix: string;

    beforeAll(async () => {
      prefix = `${broker.prefix}drainall.`;
      topics = await createPipelineTopics(broker, prefix, 2);
    }, 60_000);

    async function startAll(): Promise<{ child: ChildProcess; httpPort: number; metricsPort: number }> {
      const [httpPort, metricsPort] = [await freePort(), await freePort()];
      const child = start('all', {
        KAFKA_TOPIC_PREFIX: prefix,
        STATE_DIR: join(stateDir, 'all'),
        HTTP_PORT: String(httpPort),
        METRICS_PORT: String(metricsPort),
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        SEGMENT_WRITE_KEYS: 'drain-write-key',
        MAVERA_DRY_RUN: 'true',
        FLUSH_INTERVAL_MS: '3600000',
      });
      await waitUntil(async () => (await readyStatus(metricsPort)) === 200, 60_000, '`all` to be ready');
      return { child, httpPort, metricsPort };
    }

    it('stops accepting connections first, answers every open request (200, Connection: close) with its event on the topic, then exits 0', async () => {
      const { child, httpPort, metricsPort } = await startAll();
      const before = ['evt_drain_before_1', 'evt_drain_before_2'];
      for (const id of before) expect(await deliver(httpPort, id)).toBe(200);
      const inFlight = ['evt_drain_open_1', 'evt_drain_open_2', 'evt_drain_open_3'];
      const held = inFlight.map((id) => holdDelivery(httpPort, id));
      try {
        // Time for the server to take the connections and read the headers: the requests are in its hands.
        await sleep(300);
        const signalledAt = Date.now();
        child.kill('SIGTERM');
        // A new connection is refused (not accepted and then dropped) while the open requests are still pending.
        await waitUntil(() => refusesConnections(httpPort), 10_000, 'the connectors to stop listening');
        expect(child.exitCode).toBeNull();
        expect(await readyStatus(metricsPort)).toBe(503);

        const answers = await Promise.all(held.map((delivery) => delivery.finish()));
        expect(answers.map(({ status, connection }) => ({ status, connection }))).toEqual(
          inFlight.map(() => ({ status: 200, connection: 'close' })),
        );
        // The connection goes with the answer, rather than idling for Node's 5 s keep-alive timeout.
        for (const answer of answers) expect(answer.closedAfterMs).toBeLessThan(1_000);
        expect(await exitOf(child)).toBe(0);
        expect(Date.now() - signalledAt).toBeLessThan(GRACE_MS);
      } finally {
        for (const delivery of held) delivery.abandon();
      }

      const onTopic = (await decodeEvents(await readTopicToEnd(kafka, topics.stripeEvents))).map(
        (event) => event.event_id,
      );
      expect(onTopic.filter((id) => [...before, ...inFlight].includes(id)).sort()).toEqual(
        [...before, ...inFlight].sort(),
      );
    }, 120_000);

    it('a second SIGTERM while the drain waits on an open request exits at once with 143 (same runRoles path as `all`)', async () => {
      const [httpPort, metricsPort] = [await freePort(), await freePort()];
      const child = start('stripe-connector', {
        KAFKA_TOPIC_PREFIX: prefix,
        HTTP_PORT: String(httpPort),
        METRICS_PORT: String(metricsPort),
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      });
      await waitUntil(async () => (await readyStatus(metricsPort)) === 200, 30_000, 'the connector to be ready');
      const held = holdDelivery(httpPort, 'evt_drain_never_finished');
      try {
        await sleep(300);
        child.kill('SIGTERM');
        // Draining, and held up by the open request.
        await waitUntil(() => refusesConnections(httpPort), 10_000, 'the drain to begin');
        expect(child.exitCode).toBeNull();
        const secondAt = Date.now();
        child.kill('SIGTERM');
        expect(await exitOf(child)).toBe(143);
        expect(Date.now() - secondAt).toBeLessThan(3_000);
      } finally {
        held.abandon();
      }
    }, 120_000);
  });
});
