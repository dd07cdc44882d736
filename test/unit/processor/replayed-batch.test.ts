import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEntityStateCodec } from '../../../src/domain/state/index.js';
import { createLogger } from '../../../src/log/logger.js';
import { decodeProgress, encodeWatermark } from '../../../src/processor/changelog-restorer.js';
import { heldBy } from '../../../src/processor/partition-processor.js';
import { Processor } from '../../../src/processor/processor.js';
import { StateStore } from '../../../src/processor/state-store.js';
import { type ProfileRecord } from '../../../src/records/profile-record.js';
import { segmentCanonicalEvents } from '../../../src/sources/canonical-events.js';
import { InMemoryKafka } from './in-memory-kafka.js';
import { GROUP, pipeline, serdes, topics } from './processor-fixture.js';

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 1, 12);
/** One order every 5 days for 120 days: far more than the default horizon (30-day windows + 7 lateness days). */
const ORDERS = 25;
const directories: string[] = [];
const stores: StateStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const path of directories.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A cluster holding one user's orders on partition 0 of the Segment topic, every topic of one partition. */
async function clusterWithOrders(): Promise<InMemoryKafka> {
  const cluster = new InMemoryKafka();
  const { stripeEvents, segmentEvents, changelog, profiles, deadLetters } = topics;
  for (const topic of [stripeEvents, segmentEvents, changelog, profiles, deadLetters]) cluster.createTopic(topic, 1);
  const batch = Array.from({ length: ORDERS }, (_, i) => ({
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    messageId: `order-${String(i)}`,
    timestamp: new Date(START + i * 5 * DAY_MS).toISOString(),
    properties: { revenue: 10 },
  }));
  const result = segmentCanonicalEvents(JSON.stringify({ batch }), START + ORDERS * 5 * DAY_MS);
  if (!result.ok) throw new Error('the orders do not parse');
  const messages = await Promise.all(
    result.events.map(async (event) => ({ key: event.entity_key, value: await serdes.event.encode(event) })),
  );
  cluster.append(topics.segmentEvents, 0, messages);
  return cluster;
}

function openStore(): StateStore {
  const directory = mkdtempSync(join(tmpdir(), 'persona-stream-replay-'));
  directories.push(directory);
  const store = new StateStore(directory);
  stores.push(store);
  return store;
}

function processorOn(cluster: InMemoryKafka, store: StateStore, restored: number[] = []): Processor {
  return new Processor({
    kafka: cluster.asKafka(),
    topics,
    groupId: GROUP,
    pipeline,
    codec: createEntityStateCodec(pipeline),
    store,
    serdes,
    logger: createLogger({ level: 'silent', name: 'test' }),
    now: () => START + 200 * DAY_MS,
    refreshIntervalMs: 3_600_000,
    clockTickMs: 0,
    observer: { restored: (report) => restored.push(report.records) },
  });
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function latestProfile(cluster: InMemoryKafka, key: string): Promise<ProfileRecord | undefined> {
  const records = cluster.records(topics.profiles).filter((record) => record.key?.toString('utf8') === key);
  const last = records[records.length - 1]?.value;
  return last === undefined || last === null ? undefined : serdes.profile.decode(last);
}

function committed(cluster: InMemoryKafka): bigint | undefined {
  return cluster.committedOffset(GROUP, topics.segmentEvents);
}

describe('a batch re-delivered after its changelog write (at-least-once input)', () => {
  it('killed between the changelog acknowledgement and the offset commit: the restarted processor restores the batch and does not count it again', async () => {
    const cluster = await clusterWithOrders();
    const store = openStore();
    // The first process dies while its commit is under way: the changelog and profiles hold the batch, the group
    // offsets do not, and the local store (written after the commit) never learns of it.
    cluster.beforeCommit = () => new Promise<void>(() => undefined);
    const killed = processorOn(cluster, store);
    await killed.start();
    await until(() => cluster.commitAttempts.length > 0);
    expect((await latestProfile(cluster, 'user:u1'))?.fields['purchase_count']).toBe(ORDERS);
    expect(committed(cluster)).toBeUndefined();

    // Restarted on the same volume: it restores the batch's states from the changelog, then the group hands it the
    // whole batch again (one fetch, like a real broker's), most of it older than the restored state's horizon.
    cluster.beforeCommit = () => Promise.resolve();
    const restored: number[] = [];
    const restarted = processorOn(cluster, store, restored);
    await restarted.start();
    await until(() => committed(cluster) === BigInt(ORDERS));
    await restarted.stop();

    expect(restored.reduce((sum, records) => sum + records, 0)).toBeGreaterThan(0);
    const profile = await latestProfile(cluster, 'user:u1');
    expect(profile?.fields['purchase_count']).toBe(ORDERS);
    expect(profile?.fields['ltv']).toBe(ORDERS * 10);
  });

  it('a failed offset commit: the batch handed over again is applied to the stored state, nothing lost or counted twice', async () => {
    const cluster = await clusterWithOrders();
    const store = openStore();
    let failures = 1;
    cluster.beforeCommit = () =>
      failures-- > 0 ? Promise.reject(new Error('rebalance in progress')) : Promise.resolve();
    const processor = processorOn(cluster, store);
    await processor.start();
    await until(() => committed(cluster) === BigInt(ORDERS));
    await processor.stop();

    expect(cluster.commitAttempts.length).toBe(2);
    const profile = await latestProfile(cluster, 'user:u1');
    expect(profile?.fields['purchase_count']).toBe(ORDERS);
    expect(profile?.fields['ltv']).toBe(ORDERS * 10);
  });
});

describe('the processor producer', () => {
  it('after a write that failed although the broker appended it, writes through a new producer (a new producer id)', async () => {
    const cluster = await clusterWithOrders();
    const store = openStore();
    let failures = 1;
    cluster.afterAppend = () =>
      failures-- > 0 ? Promise.reject(new Error('the ack was lost (non-retriable)')) : Promise.resolve();
    const processor = processorOn(cluster, store);
    await processor.start();
    await until(() => committed(cluster) === BigInt(ORDERS));
    await processor.stop();

    expect(cluster.producers).toBe(2);
    const profile = await latestProfile(cluster, 'user:u1');
    expect(profile?.fields['purchase_count']).toBe(ORDERS);
  });
});

describe('input positions', () => {
  it('a record is held once its offset is below its topic position; other topics are not affected', () => {
    const positions = { 'segment.events': '10' };
    expect(heldBy(positions, { topic: 'segment.events', offset: '9' })).toBe(true);
    expect(heldBy(positions, { topic: 'segment.events', offset: '10' })).toBe(false);
    expect(heldBy(positions, { topic: 'stripe.events', offset: '0' })).toBe(false);
    expect(heldBy({}, { topic: 'segment.events', offset: '0' })).toBe(false);
  });

  it('ride on the watermark record, which still starts with the watermark; an 8-byte record has none', () => {
    const inputs = { 'segment.events': '25', 'stripe.events': '9007199254740993' };
    const bytes = encodeWatermark(1_700_000_000_000, inputs);
    expect(bytes.readDoubleBE(0)).toBe(1_700_000_000_000);
    expect(decodeProgress(bytes)).toEqual({ watermark: 1_700_000_000_000, inputs });
    expect(decodeProgress(encodeWatermark(5))).toEqual({ watermark: 5, inputs: undefined });
    const garbled = Buffer.concat([encodeWatermark(5), Buffer.from('{"segment.events":7}')]);
    expect(decodeProgress(garbled)).toEqual({ watermark: 5, inputs: undefined });
  });
});
