import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { CursorFile, stripeCursorSchema, type StripeBackfillType } from '../../src/backfill/cursor-file.js';
import { ProgressReporter } from '../../src/backfill/progress.js';
import { createStripeApi } from '../../src/backfill/stripe/stripe-api.js';
import { runStripeObjectBackfill, type StripeBackfillDeps } from '../../src/backfill/stripe/stripe-object-backfill.js';
import { syntheticStripeEvent, type StripeObjectKind } from '../../src/backfill/stripe/synthetic-event.js';
import { TokenBucket } from '../../src/backfill/token-bucket.js';
import { backfillCommand } from '../../src/cli/commands/backfill.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import {
  chargeObject,
  customerObject,
  disputeObject,
  eventObject,
  invoiceObject,
  seedStripeAccount,
  startFakeStripeApi,
  subscriptionObject,
  type FakeStripeApi,
  type FakeStripeData,
  type FakeStripeOptions,
  type RecordedRequest,
  type StripeObject,
} from '../support/fake-stripe-api.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const logger = createLogger({ level: 'silent', name: 'backfill-test' });
const ALL_TYPES: readonly StripeBackfillType[] = [
  'customers',
  'subscriptions',
  'invoices',
  'charges',
  'payment_methods',
  'disputes',
];
const TOPICS = ['full', 'rerun', 'resume', 'cmd.stripe.events'] as const;

let broker: TestBroker;
let kafka: Kafka;
let publisher: EventPublisher;
let workDir: string;
const topic = (name: (typeof TOPICS)[number]) => `${broker.prefix}bf.${name}`;
const fakes: FakeStripeApi[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  await broker.createTopics(TOPICS.map((name) => ({ name: topic(name), partitions: 3 })));
  kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
  publisher = new EventPublisher(kafka, serde);
  await publisher.connect();
  workDir = await mkdtemp(join(tmpdir(), 'backfill-stripe-'));
}, 180_000);

afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await publisher.disconnect();
  await broker.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function fakeStripe(options: FakeStripeOptions): Promise<FakeStripeApi> {
  const fake = await startFakeStripeApi(options);
  fakes.push(fake);
  return fake;
}

/** Every record on the topic, decoded (all partitions, from the beginning). */
async function readTopic(name: string): Promise<CanonicalEvent[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(name);
  await admin.disconnect();
  const total = offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `reader-${name}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: name, fromBeginning: true });
    const events: CanonicalEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            events.push(await serde.decode(message.value ?? Buffer.alloc(0)));
            if (events.length === total) resolve();
          },
        })
        .catch(reject);
    });
    return events;
  } finally {
    await consumer.disconnect();
  }
}

function countsById(events: readonly CanonicalEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.event_id, (counts.get(event.event_id) ?? 0) + 1);
  return counts;
}

/** The event ids the backfill must publish for a seeded account: one per object that has a customer. */
function expectedIds(data: FakeStripeData): string[] {
  const ids: string[] = [];
  const add = (kind: StripeObjectKind, object: StripeObject) => {
    const result = syntheticStripeEvent(kind, object);
    if (!result.ok) throw new Error(result.error.message);
    ids.push(result.event.id);
  };
  for (const customer of data.customers ?? []) add('customer', customer);
  for (const subscription of data.subscriptions ?? []) add('subscription', subscription);
  for (const invoice of data.invoices ?? []) add('invoice', invoice);
  for (const charge of data.charges ?? []) if (charge['customer'] !== null) add('charge', charge);
  for (const methods of Object.values(data.paymentMethods ?? {}))
    for (const method of methods) add('payment_method', method);
  for (const dispute of data.disputes ?? []) {
    add('dispute', { ...dispute, charge: (data.charges ?? []).find((charge) => charge.id === dispute['charge'])! });
  }
  return ids.sort();
}

function deps(fake: FakeStripeApi, topicName: string, cursorPath: string, rate: number, signal?: AbortSignal) {
  const stripe = createStripeApi({ apiKey: fake.apiKey, apiUrl: fake.url, bucket: new TokenBucket(rate), signal });
  return {
    stripe,
    sink: publisher,
    topic: topicName,
    cursorFile: new CursorFile(cursorPath, stripeCursorSchema),
    progress: new ProgressReporter('test', () => {}, Date.now, 60_000),
    logger,
    now: Date.now,
    signal,
  } satisfies StripeBackfillDeps;
}

function customerPages(requests: readonly RecordedRequest[]): (string | null)[] {
  return requests
    .filter((request) => request.path === '/v1/customers' && request.status === 200)
    .map((request) => request.query.get('starting_after'));
}

/** The most requests that arrived within any one second. */
function busiestSecond(requests: readonly RecordedRequest[]): number {
  const times = requests.map((request) => request.at).sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('backfill stripe: list APIs → synthetic events on stripe.events', () => {
  it('publishes every object exactly once, retrying 429s, never above the rate limit', async () => {
    const data = seedStripeAccount(23);
    const fake = await fakeStripe({
      data,
      // Stripe's answer over the limit: 429 with Retry-After, here 1 s once and 0 s on every 9th request.
      throttle: (request) => (request.index === 4 ? '1' : request.index % 9 === 0 ? '0' : null),
    });
    const outcome = await runStripeObjectBackfill(
      { types: ALL_TYPES, since: null, restart: false, pageSize: 5, concurrency: 4 },
      deps(fake, topic('full'), join(workDir, 'full.json'), 20),
    );
    const expected = expectedIds(data);
    expect(expected).toHaveLength(23 + 23 + 23 + 23 + 31 + 6);
    expect(outcome).toEqual({ status: 'finished', published: expected.length, skipped: 1, invalid: 0 });

    const events = await readTopic(topic('full'));
    const counts = countsById(events);
    expect([...counts.keys()].sort()).toEqual(expected);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    // Keyed by customer: the dispute on cus_001's charge and cus_001's payment methods land on cus_001.
    expect(
      events
        .filter((event) => event.entity_key === 'cus_001')
        .map((event) => event.type)
        .sort(),
    ).toEqual([
      'charge.dispute.updated',
      'charge.succeeded',
      'customer.subscription.updated',
      'customer.updated',
      'invoice.paid',
      'payment_method.attached',
      'payment_method.attached',
    ]);

    const throttled = fake.requests.filter((request) => request.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(5);
    for (const request of throttled) {
      const retry = fake.requests.find(
        (later) =>
          later.index > request.index &&
          later.path === request.path &&
          later.query.toString() === request.query.toString(),
      );
      expect(retry?.status).toBe(200);
      if (request.index === 4) expect(retry!.at - request.at).toBeGreaterThanOrEqual(1000);
    }
    expect(busiestSecond(fake.requests)).toBeLessThanOrEqual(20 + 2);
    // subscriptions are backfilled from their own list, so customers are listed without the expansion.
    expect(fake.requests.some((request) => [...request.query.values()].includes('data.subscriptions'))).toBe(false);
  }, 60_000);

  it('publishes the same event ids again on a rerun (duplicates the processor drops), and nothing when finished', async () => {
    const data = seedStripeAccount(8);
    const fake = await fakeStripe({ data });
    const cursorPath = join(workDir, 'rerun.json');
    const options = { types: ALL_TYPES, since: null, restart: false, pageSize: 3, concurrency: 4 };
    const first = await runStripeObjectBackfill(options, deps(fake, topic('rerun'), cursorPath, 100));
    const unchanged = await runStripeObjectBackfill(options, deps(fake, topic('rerun'), cursorPath, 100));
    expect(unchanged).toEqual({ status: 'already_finished', published: 0, skipped: 0, invalid: 0 });
    const second = await runStripeObjectBackfill(
      { ...options, restart: true },
      deps(fake, topic('rerun'), cursorPath, 100),
    );
    expect(second).toEqual(first);

    const counts = countsById(await readTopic(topic('rerun')));
    expect([...counts.keys()].sort()).toEqual(expectedIds(data));
    expect([...counts.values()].every((count) => count === 2)).toBe(true);
  }, 60_000);

  it('continues after a kill from the page after the last one the broker acknowledged', async () => {
    const data = seedStripeAccount(23);
    const controller = new AbortController();
    // Killed while fetching the payment methods of page 3 (customers 013…009): pages 1 and 2 are done.
    const fake = await fakeStripe({
      data,
      onRequest: (request) => {
        if (request.path === '/v1/customers/cus_012/payment_methods') controller.abort();
      },
    });
    const cursorPath = join(workDir, 'resume.json');
    const options = { types: ALL_TYPES, since: null, restart: false, pageSize: 5, concurrency: 2 };
    await expect(
      runStripeObjectBackfill(options, deps(fake, topic('resume'), cursorPath, 100, controller.signal)),
    ).rejects.toMatchObject({ name: 'AbortError' });
    const cursor = await new CursorFile(cursorPath, stripeCursorSchema).load();
    expect(cursor?.objects?.walks).toEqual({ customers: { done: false, starting_after: 'cus_014' } });
    expect(customerPages(fake.requests)).toEqual([null, 'cus_019', 'cus_014']);

    const killedAt = fake.requests.length;
    const outcome = await runStripeObjectBackfill(options, deps(fake, topic('resume'), cursorPath, 100));
    expect(outcome.status).toBe('finished');
    const secondRun = fake.requests.slice(killedAt);
    // Page 3 again (it was never published), then on; never pages 1 or 2.
    expect(customerPages(secondRun)).toEqual(['cus_014', 'cus_009', 'cus_004']);
    expect(secondRun.some((request) => request.path === '/v1/customers/cus_019/payment_methods')).toBe(false);

    const counts = countsById(await readTopic(topic('resume')));
    expect([...counts.keys()].sort()).toEqual(expectedIds(data));
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  }, 60_000);
});

describe('persona-stream backfill stripe --events (catch-up)', () => {
  it('publishes /v1/events verbatim from --since, re-keys disputes through the charge, then continues from the newest', async () => {
    const base = 1_767_225_600;
    const charge = chargeObject('ch_d', 'cus_D', base - 500);
    const events = [
      eventObject('evt_5', 'invoice.paid', base + 50, invoiceObject('in_1', 'cus_A', base + 40)),
      eventObject('evt_4', 'product.created', base + 40, { id: 'prod_1', object: 'product', created: base }),
      eventObject('evt_3', 'charge.dispute.created', base + 30, disputeObject('dp_1', 'ch_d', base + 30)),
      eventObject('evt_2', 'customer.subscription.updated', base + 20, subscriptionObject('sub_B', 'cus_B', base)),
      eventObject('evt_1', 'customer.updated', base + 10, customerObject('cus_A', base)),
      eventObject('evt_0', 'customer.updated', base - 10, customerObject('cus_Z', base)),
    ];
    const fake = await fakeStripe({ data: { events, charges: [charge] } });
    const cursorPath = join(workDir, 'events.json');
    const stderr: string[] = [];
    const io = {
      stdout: () => {},
      stderr: (text: string) => stderr.push(text),
      readInput: () => Promise.reject(new Error('no input')),
      now: Date.now,
      env: {
        KAFKA_BROKERS: broker.bootstrapServers.join(','),
        KAFKA_TOPIC_PREFIX: `${broker.prefix}bf.cmd.`,
        STRIPE_API_KEY: fake.apiKey,
        STRIPE_API_URL: fake.url,
        STRIPE_BACKFILL_RATE: '50',
        LOG_LEVEL: 'silent',
      },
    };
    const since = new Date(base * 1000).toISOString();
    const args = ['stripe', '--events', '--cursor-file', cursorPath, '--page-size', '2'];
    expect(await backfillCommand.run([...args, '--since', since], io)).toBe(0);

    const eventRequests = fake.requests.filter((request) => request.path === '/v1/events');
    expect(
      eventRequests.map((request) => [request.query.get('created[gte]'), request.query.get('starting_after')]),
    ).toEqual([
      [String(base), null],
      [String(base), 'evt_4'],
      [String(base), 'evt_2'],
    ]);
    expect(fake.requests.filter((request) => request.path === '/v1/charges/ch_d')).toHaveLength(1);
    const published = await readTopic(topic('cmd.stripe.events'));
    expect(published.map((event) => [event.event_id, event.entity_key]).sort()).toEqual([
      ['evt_1', 'cus_A'],
      ['evt_2', 'cus_B'],
      ['evt_3', 'cus_D'],
      ['evt_5', 'cus_A'],
    ]);
    const verbatim = published.find((event) => event.event_id === 'evt_5')!;
    expect(JSON.parse(verbatim.payload)).toEqual(events[0]);
    expect(await new CursorFile(cursorPath, stripeCursorSchema).load()).toMatchObject({
      events: { published_through: base + 50, run: null },
    });
    expect(stderr.join('')).toContain('backfill stripe (events): 5 objects (4 published, 1 skipped), 3 pages');

    // The next catch-up starts at the newest second already published: that event again (a duplicate), nothing older.
    const before = fake.requests.length;
    expect(await backfillCommand.run(args, io)).toBe(0);
    expect(fake.requests.slice(before).map((request) => request.query.get('created[gte]'))).toEqual([
      String(base + 50),
    ]);
    expect(countsById(await readTopic(topic('cmd.stripe.events'))).get('evt_5')).toBe(2);
  }, 60_000);

  it('refuses to start without STRIPE_API_KEY and rejects unknown types, naming them', async () => {
    const stderr: string[] = [];
    const io = {
      stdout: () => {},
      stderr: (text: string) => stderr.push(text),
      readInput: () => Promise.reject(new Error('no input')),
      now: Date.now,
      env: { KAFKA_BROKERS: '127.0.0.1:1' },
    };
    await expect(backfillCommand.run(['stripe'], io)).rejects.toThrow('STRIPE_API_KEY is not set');
    await expect(backfillCommand.run(['stripe', '--types', 'customers,plans'], io)).rejects.toThrow(
      '--types: "plans" is not one of customers, subscriptions, invoices, charges, payment_methods, disputes',
    );
    await expect(backfillCommand.run(['stripe', '--since', 'last week'], io)).rejects.toThrow('--since expects');
  });
});
