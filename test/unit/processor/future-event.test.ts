import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEntityStateCodec } from '../../../src/domain/state/index.js';
import { createLogger } from '../../../src/log/logger.js';
import { decodeProgress, WATERMARK_KEY } from '../../../src/processor/changelog-restorer.js';
import { latestAcceptedEventTime } from '../../../src/processor/future-event-guard.js';
import { Processor } from '../../../src/processor/processor.js';
import { StateStore } from '../../../src/processor/state-store.js';
import { CANONICAL_EVENT_SCHEMA_VERSION, type CanonicalEvent } from '../../../src/records/canonical-event.js';
import { decodeDeadLetterValue, type DeadLetter } from '../../../src/records/dead-letter.js';
import { type ProfileRecord } from '../../../src/records/profile-record.js';
import { InMemoryKafka } from './in-memory-kafka.js';
import { GROUP, pipeline, serdes, topics } from './processor-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 1, 12);
const NOW = T0 + 2 * HOUR;
const YEAR_9999 = Date.UTC(9999, 11, 31, 23, 59, 59);
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A Segment order as a record on the topic, whatever time it claims (built by hand: no connector would). */
function order(userId: string, messageId: string, at: number): CanonicalEvent {
  return {
    event_id: messageId,
    source: 'segment',
    type: 'track',
    entity_key: userId,
    occurred_at: at,
    received_at: T0,
    payload: JSON.stringify({
      type: 'track',
      event: 'Order Completed',
      userId,
      messageId,
      timestamp: new Date(at).toISOString(),
      receivedAt: new Date(T0).toISOString(),
      properties: { revenue: 10 },
    }),
    schema_version: CANONICAL_EVENT_SCHEMA_VERSION,
  };
}

async function run(records: readonly { event: CanonicalEvent; publishedAt?: number }[], now: number) {
  const cluster = new InMemoryKafka();
  const { stripeEvents, segmentEvents, changelog, profiles, deadLetters } = topics;
  for (const topic of [stripeEvents, segmentEvents, changelog, profiles, deadLetters]) cluster.createTopic(topic, 1);
  for (const { event, publishedAt } of records) {
    const value = await serdes.event.encode(event);
    const timestamp = publishedAt === undefined ? {} : { timestamp: String(publishedAt) };
    cluster.append(topics.segmentEvents, 0, [{ key: event.entity_key, value, ...timestamp }]);
  }
  const directory = mkdtempSync(join(tmpdir(), 'persona-stream-future-'));
  const store = new StateStore(directory);
  cleanup.push(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });
  const processor = new Processor({
    kafka: cluster.asKafka(),
    topics,
    groupId: GROUP,
    pipeline,
    codec: createEntityStateCodec(pipeline),
    store,
    serdes,
    logger: createLogger({ level: 'silent', name: 'test' }),
    now: () => now,
    refreshIntervalMs: HOUR,
    clockTickMs: 0,
  });
  await processor.start();
  const deadline = Date.now() + 10_000;
  while (cluster.committedOffset(GROUP, topics.segmentEvents) !== BigInt(records.length)) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await processor.stop();
  const decode = <T>(topic: string, read: (value: Buffer) => Promise<T>) =>
    Promise.all(cluster.records(topic).map((record) => read(record.value ?? Buffer.alloc(0))));
  const watermarks = cluster
    .records(topics.changelog)
    .filter((record) => record.key?.toString('utf8') === WATERMARK_KEY)
    .map((record) => decodeProgress(record.value ?? Buffer.alloc(0)).watermark);
  return {
    watermark: processor.watermarkOf(0),
    watermarks,
    profiles: await decode<ProfileRecord>(topics.profiles, (value) => serdes.profile.decode(value)),
    deadLetters: await decode<DeadLetter>(topics.deadLetters, (value) => serdes.deadLetter.decode(value)),
  };
}

describe('a record from the future on an event topic', () => {
  it('is dead-lettered with its reason; the watermark and every as_of stay sane and the consumer keeps going', async () => {
    const future = order('u2', 'from-9999', YEAR_9999);
    const outcome = await run(
      [{ event: order('u1', 'o1', T0) }, { event: future }, { event: order('u1', 'o2', T0 + HOUR) }],
      NOW,
    );

    expect(outcome.deadLetters).toHaveLength(1);
    const [letter] = outcome.deadLetters;
    expect(letter).toMatchObject({
      topic: topics.segmentEvents,
      offset: '1',
      key: 'u2',
      error_code: 'event_time_in_future',
    });
    expect(letter?.reason).toMatch(/^event time 9999-12-31T23:59:59.000Z is after .*MAX_EVENT_TIME_SKEW_MS/);
    expect(decodeDeadLetterValue(letter?.value ?? null)).toEqual(await serdes.event.encode(future));

    expect(outcome.watermark).toBe(T0 + HOUR);
    expect(Math.max(...outcome.watermarks)).toBe(T0 + HOUR);
    expect(outcome.profiles.map((profile) => [profile.key, profile.fields['purchase_count']])).toEqual([
      ['user:u1', 2],
    ]);
    for (const profile of outcome.profiles) expect(profile.as_of).toBeLessThanOrEqual(NOW);
  });

  it('is judged by the earlier of its publish time and the wall clock, so a replay much later agrees', async () => {
    const published = T0;
    const early = order('u1', 'two-days-early', published + 2 * DAY);
    const later = await run([{ event: early, publishedAt: published }], published + 30 * DAY);
    expect(later.deadLetters.map((letter) => letter.error_code)).toEqual(['event_time_in_future']);

    const within = order('u1', 'an-hour-early', published + HOUR);
    expect((await run([{ event: within, publishedAt: published }], published)).deadLetters).toEqual([]);
  });

  it('the latest accepted time: the wall clock caps a publish time from the future, and a missing one', () => {
    expect(latestAcceptedEventTime(NOW, String(T0), DAY)).toBe(T0 + DAY);
    expect(latestAcceptedEventTime(NOW, String(YEAR_9999), DAY)).toBe(NOW + DAY);
    expect(latestAcceptedEventTime(NOW, '-1', DAY)).toBe(NOW + DAY);
    expect(latestAcceptedEventTime(NOW, undefined, DAY)).toBe(NOW + DAY);
  });
});
