import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { CursorFile, segmentCursorSchema } from '../../src/backfill/cursor-file.js';
import { ProgressReporter } from '../../src/backfill/progress.js';
import { backfillMessageId } from '../../src/backfill/segment/identify-message.js';
import { ProfileApiClient } from '../../src/backfill/segment/profile-api.js';
import { runSegmentBackfill } from '../../src/backfill/segment/segment-backfill.js';
import { TokenBucket } from '../../src/backfill/token-bucket.js';
import { backfillCommand } from '../../src/cli/commands/backfill.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { createLogger } from '../../src/log/logger.js';
import type { JsonObject } from '../../src/domain/segment/model.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import {
  startFakeSegmentProfileApi,
  type FakeProfileApi,
  type FakeProfileApiOptions,
  type FakeTrait,
  type RecordedProfileRequest,
} from '../support/fake-segment-profile-api.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const SPACE = 'spa_9Qx2';
const TOKEN = 'sgp_profile_token';
const TOPICS = ['cmd.segment.events', 'resume'] as const;

let broker: TestBroker;
let kafka: Kafka;
let workDir: string;
const fakes: FakeProfileApi[] = [];
const topic = (name: (typeof TOPICS)[number]) => `${broker.prefix}bs.${name}`;

beforeAll(async () => {
  broker = await startTestBroker();
  await broker.createTopics(TOPICS.map((name) => ({ name: topic(name), partitions: 3 })));
  kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
  workDir = await mkdtemp(join(tmpdir(), 'backfill-segment-'));
}, 180_000);

afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await broker.stop();
  await rm(workDir, { recursive: true, force: true });
});

const userIds = Array.from({ length: 25 }, (_, i) => `u_${String(i + 1).padStart(2, '0')}`);

/** u_13 has no profile; u_05 has 250 traits (two pages of 200); the others a handful. */
function seedProfiles(): Record<string, Record<string, FakeTrait>> {
  const profiles: Record<string, Record<string, FakeTrait>> = {};
  userIds.forEach((userId, i) => {
    if (userId === 'u_13') return;
    const traits: Record<string, FakeTrait> = {
      email: { value: `${userId}@example.test`, updatedAt: '2026-04-01T10:00:00.000Z' },
      lifetime_revenue_eur: {
        value: 100 * (i + 1),
        updatedAt: `2026-04-${String(2 + (i % 20)).padStart(2, '0')}T08:00:00.000Z`,
      },
      high_value_customer: { value: i % 3 === 0, updatedAt: '2026-03-01T00:00:00.000Z' },
    };
    if (userId === 'u_05') {
      for (let n = 0; n < 247; n++) traits[`score_${n}`] = { value: n, updatedAt: '2026-02-01T00:00:00.000Z' };
    }
    profiles[userId] = traits;
  });
  return profiles;
}

function traitValues(traits: Record<string, FakeTrait>): JsonObject {
  return Object.fromEntries(Object.entries(traits).map(([key, trait]) => [key, trait.value]));
}

async function fakeProfiles(options: Partial<FakeProfileApiOptions> = {}): Promise<FakeProfileApi> {
  const fake = await startFakeSegmentProfileApi({ spaceId: SPACE, token: TOKEN, profiles: seedProfiles(), ...options });
  fakes.push(fake);
  return fake;
}

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

function usersRequested(requests: readonly RecordedProfileRequest[]): string[] {
  return requests.map((request) =>
    decodeURIComponent(/profiles\/user_id:([^/]+)\/traits/.exec(request.path)?.[1] ?? ''),
  );
}

function busiestSecond(requests: readonly { readonly at: number }[]): number {
  const times = requests.map((request) => request.at).sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('persona-stream backfill segment --users', () => {
  it('publishes each user’s traits once as an identify, paging traits, retrying 429s, within the rate', async () => {
    const fake = await fakeProfiles({
      throttle: (request) => (request.index === 3 ? '1' : request.index % 7 === 0 ? '0' : null),
      failUsers: { u_07: 400 },
    });
    const cursorPath = join(workDir, 'segment.json');
    const stderr: string[] = [];
    const io: CliIo = {
      stdout: () => {},
      stderr: (text) => stderr.push(text),
      readInput: (path) =>
        path === '-'
          ? Promise.resolve(`# users to backfill\n${userIds.join('\n')}\nu_01\n`)
          : Promise.reject(new Error(`unexpected ${path}`)),
      now: Date.now,
      env: {
        KAFKA_BROKERS: broker.bootstrapServers.join(','),
        KAFKA_TOPIC_PREFIX: `${broker.prefix}bs.cmd.`,
        SEGMENT_TOKEN: TOKEN,
        SEGMENT_SPACE_ID: SPACE,
        SEGMENT_PROFILE_API_URL: fake.url,
        LOG_LEVEL: 'silent',
      },
    };
    const args = ['segment', '--users', '-', '--cursor-file', cursorPath, '--rate', '30', '--concurrency', '4'];
    // u_07 failed (400): reported, and the exit code says so.
    expect(await backfillCommand.run(args, io)).toBe(1);
    expect(stderr.join('')).toContain('23 users published to');
    expect(stderr.join('')).toContain('1 without a profile, 1 failed');

    const profiles = seedProfiles();
    const events = await readTopic(topic('cmd.segment.events'));
    const expected = userIds
      .filter((userId) => userId !== 'u_13' && userId !== 'u_07')
      .map((userId) => {
        const traits = traitValues(profiles[userId]!);
        return { event_id: backfillMessageId(userId, traits), entity_key: userId, traits };
      });
    expect(
      events
        .map((event) => ({
          event_id: event.event_id,
          entity_key: event.entity_key,
          traits: (JSON.parse(event.payload) as { traits: unknown }).traits,
        }))
        .sort((a, b) => a.entity_key.localeCompare(b.entity_key)),
    ).toEqual(expected);
    const u02 = events.find((event) => event.entity_key === 'u_02')!;
    // Timed by the newest updated_at of its traits (lifetime_revenue_eur, 2026-04-03T08:00Z).
    expect(u02).toMatchObject({
      type: 'identify',
      source: 'segment',
      occurred_at: Date.parse('2026-04-03T08:00:00.000Z'),
    });

    const served = fake.requests.filter((request) => request.status === 200);
    expect(
      served.every((request) => request.authorization === `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`),
    ).toBe(true);
    expect(
      served.every((request) => request.query.get('verbose') === 'true' && request.query.get('limit') === '200'),
    ).toBe(true);
    const u05 = fake.requests.filter((request) => request.path.includes('user_id:u_05') && request.status === 200);
    expect(u05.map((request) => request.query.get('next'))).toEqual([null, 'score_197']);
    // Every user asked once (duplicates in the list dropped), plus the second traits page and the 429 retries.
    const throttled = fake.requests.filter((request) => request.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(3);
    expect(fake.requests).toHaveLength(25 + 1 + throttled.length);
    expect(new Set(usersRequested(fake.requests))).toEqual(new Set(userIds));
    const firstRetry = fake.requests.find((request) => request.index > 3 && request.path === fake.requests[2]!.path)!;
    expect(firstRetry.at - fake.requests[2]!.at).toBeGreaterThanOrEqual(1000);
    expect(busiestSecond(fake.requests)).toBeLessThanOrEqual(30 + 2);

    // Done: a rerun reads nothing; --restart publishes the same messageIds again.
    const before = fake.requests.length;
    expect(await backfillCommand.run(args, io)).toBe(0);
    expect(fake.requests).toHaveLength(before);
    expect(await backfillCommand.run([...args, '--restart'], io)).toBe(1);
    const again = await readTopic(topic('cmd.segment.events'));
    const ids = again.map((event) => event.event_id);
    expect(new Set(ids)).toEqual(new Set(expected.map((entry) => entry.event_id)));
    expect(ids).toHaveLength(2 * expected.length);
  }, 60_000);

  it('continues after a kill with the batch after the last one the broker acknowledged', async () => {
    const controller = new AbortController();
    // Killed while batch 3 (u_11…u_15) is being fetched: batches 1 and 2 are published.
    const fake = await fakeProfiles({
      onRequest: (request) => {
        if (request.path.includes('user_id:u_12')) controller.abort();
      },
    });
    const publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
    try {
      const cursorFile = new CursorFile(join(workDir, 'resume.json'), segmentCursorSchema);
      const run = (signal?: AbortSignal) =>
        runSegmentBackfill(
          { users: userIds, restart: false, concurrency: 1, batchSize: 5 },
          {
            client: new ProfileApiClient({
              baseUrl: fake.url,
              spaceId: SPACE,
              token: TOKEN,
              bucket: new TokenBucket(200),
              signal,
            }),
            sink: publisher,
            topic: topic('resume'),
            cursorFile,
            progress: new ProgressReporter('test', () => {}, Date.now, 60_000),
            logger: createLogger({ level: 'silent', name: 'test' }),
            now: Date.now,
            signal,
          },
        );
      await expect(run(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect((await cursorFile.load())?.users).toMatchObject({ done: 10, last: 'u_10', finished_at: null });

      const killedAt = fake.requests.length;
      expect(await run()).toEqual({ status: 'finished', published: 14, notFound: 1, failed: 0 });
      expect(usersRequested(fake.requests.slice(killedAt))).toEqual(userIds.slice(10));
      const counts = new Map<string, number>();
      for (const event of await readTopic(topic('resume')))
        counts.set(event.entity_key, (counts.get(event.entity_key) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual(userIds.filter((userId) => userId !== 'u_13'));
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await publisher.disconnect();
    }
  }, 60_000);

  it('stops at once on a rejected token, and needs SEGMENT_TOKEN and --users', async () => {
    const fake = await fakeProfiles();
    const rejected = new ProfileApiClient({
      baseUrl: fake.url,
      spaceId: SPACE,
      token: 'wrong',
      bucket: new TokenBucket(100),
    });
    await expect(rejected.userTraits('u_01')).rejects.toMatchObject({ status: 401, fatal: true });
    const client = new ProfileApiClient({
      baseUrl: fake.url,
      spaceId: SPACE,
      token: TOKEN,
      bucket: new TokenBucket(100),
    });
    expect(await client.userTraits('u_13')).toBeNull();
    expect(fake.requests.map((request) => request.status)).toEqual([401, 404]);

    const io: CliIo = {
      stdout: () => {},
      stderr: () => {},
      readInput: () => Promise.resolve('u_1\n'),
      now: Date.now,
      env: { KAFKA_BROKERS: '127.0.0.1:1' },
    };
    await expect(backfillCommand.run(['segment'], io)).rejects.toThrow('--users FILE|- is required');
    await expect(backfillCommand.run(['segment', '--users', '-'], io)).rejects.toThrow(
      'SEGMENT_TOKEN and SEGMENT_SPACE_ID must be set',
    );
  });
});
