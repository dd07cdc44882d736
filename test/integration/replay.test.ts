import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { replayCommand } from '../../src/cli/commands/replay.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline, deriveProfile } from '../../src/domain/pipeline/pipeline.js';
import { createEntityStateCodec } from '../../src/domain/state/index.js';
import { WATERMARK_KEY } from '../../src/processor/changelog-restorer.js';
import { profileHash } from '../../src/processor/partition-processor.js';
import { decodeStored } from '../../src/processor/state-store.js';
import type { CanonicalEvent } from '../../src/records/canonical-event.js';
import { profileRecordSchema, profileToRecord, type ProfileRecord } from '../../src/records/profile-record.js';
import { ReplayRefusedError } from '../../src/roles/replay-target.js';
import { topicNames, type TopicNames } from '../../src/roles/runtime.js';
import { FAKE_MAVERA_KEY, startFakeMavera, type FakeMavera } from '../support/fake-mavera.js';
import { freePort } from '../support/free-port.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
import { offlineStates } from '../support/offline-reference.js';
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
const START = Date.UTC(2026, 0, 1);
const pipeline = createPipeline(parsePipelineConfig({}));

/** One Segment event per partition at `at`: every partition's watermark ends at that instant. */
function closingEvents(prefix: string, at: number): CanonicalEvent[] {
  return canonicalEventsOf(
    keysForEveryPartition(prefix, PARTITIONS).map((userId, index) => ({
      source: 'segment' as const,
      at,
      raw: {
        type: 'track',
        event: 'Clock Ticked',
        userId,
        messageId: `${prefix}${String(index)}`,
        timestamp: new Date(at).toISOString(),
        properties: {},
      },
    })),
  );
}

function lastEventHour(events: readonly CanonicalEvent[]): number {
  return (Math.floor(Math.max(...events.map((event) => event.occurred_at)) / HOUR) + 2) * HOUR;
}

function parseProfile(value: Buffer): ProfileRecord {
  return profileRecordSchema.parse(JSON.parse(value.toString('utf8')));
}

interface DryRunRequest {
  readonly operation: string;
  readonly segment: string;
  readonly personaId: string | null;
  readonly body: unknown;
}

/** The would-be requests of formatDryRunDiff's text: `op segment[ → id] (reasons)` then the indented body. */
function dryRunRequests(stdout: string): DryRunRequest[] {
  const lines = stdout.split('\n');
  const requests: DryRunRequest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(create|update) (\S+)(?: → (\S+))? \(/.exec(lines[i] ?? '');
    if (match === null) continue;
    requests.push({
      operation: match[1] ?? '',
      segment: match[2] ?? '',
      personaId: match[3] ?? null,
      body: JSON.parse((lines[i + 1] ?? '').trim()) as unknown,
    });
  }
  return requests;
}

describe('replay: rebuild state into a fresh generation, dry-run diff against Mavera', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let mavera: FakeMavera;
  let topics: TopicNames;
  let prefix: string;
  let end = 0;
  let events: CanonicalEvent[] = [];
  let environment: Record<string, string>;
  const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-replay-test-'));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    prefix = `${broker.prefix}replay.`;
    topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    if (broker.kind === 'mock') {
      // The mock cannot create topics through the admin API: the new generations' changelogs exist up front.
      await broker.createTopics(
        [1, 2].map((generation) => ({
          name: topicNames(prefix, generation).changelog,
          partitions: PARTITIONS,
          compacted: true,
        })),
      );
    }
    kafka = quietKafka(broker);
    mavera = await startFakeMavera({ ratePerMinute: 10_000 });
    environment = {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      PROCESSOR_CLOCK_TICK_MS: '0',
      MAVERA_API_KEY: FAKE_MAVERA_KEY,
      MAVERA_BASE_URL: mavera.url,
      FLUSH_INTERVAL_MS: String(24 * HOUR),
      LOG_LEVEL: 'warn',
    };
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await mavera.close();
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function replay(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      readInput: () => Promise.reject(new Error('replay reads no input')),
      now: () => Date.now(),
      env: environment,
    };
    const code = await replayCommand.run(args, io);
    return { code, stdout, stderr };
  }

  async function profilesHighWatermarks(): Promise<string[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topics.profiles))
        .sort((a, b) => a.partition - b.partition)
        .map((entry) => entry.high);
    } finally {
      await admin.disconnect();
    }
  }

  async function liveProfiles(): Promise<Map<string, ProfileRecord>> {
    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    return new Map([...table].map(([key, value]) => [key, parseProfile(value)]));
  }

  /** A real role process until it is ready; its stdout (JSON logs) collected. */
  async function startRole(command: string, extra: Record<string, string>) {
    const metricsPort = await freePort();
    const child = startCli([command], { ...environment, METRICS_PORT: String(metricsPort), ...extra });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await waitUntil(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${String(metricsPort)}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      90_000,
      `${command} to be ready`,
    );
    return { child, metricsPort, output: () => output };
  }

  async function flusherActive(port: number): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith('persona_stream_flusher_active '));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  async function consumedProfiles(port: number): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`persona_stream_records_consumed_total{topic="${topics.profiles}"}`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  it('the live pipeline (`all`) processes the events and creates the personas on its last flush', async () => {
    const traffic = generateTraffic({ seed: 41, customers: 60, users: 60, start: START, months: 4 });
    const generated = canonicalEventsOf(traffic);
    end = lastEventHour(generated);
    events = [...generated, ...closingEvents('clock-', end)];
    await publishCanonical(kafka, { stripe: topics.stripeEvents, segment: topics.segmentEvents }, events);

    const httpPort = await freePort();
    const all = await startRole('all', {
      STATE_DIR: stateDir,
      HTTP_PORT: String(httpPort),
      STRIPE_WEBHOOK_SECRET: 'whsec_replay_test',
      SEGMENT_WRITE_KEYS: 'replay-write-key',
      SEGMENT_SHARED_SECRET: 'replay-shared-secret',
    });
    try {
      await waitUntil(
        async () => {
          const progress = await groupProgress(kafka, `${prefix}processor`, [
            topics.stripeEvents,
            topics.segmentEvents,
          ]);
          return progress.committed === events.length;
        },
        120_000,
        'the processor to commit every event',
      );
      const profileRecords = (await profilesHighWatermarks()).reduce((sum, high) => sum + Number(high), 0);
      await waitUntil(
        async () => (await consumedProfiles(all.metricsPort)) >= profileRecords,
        60_000,
        'the flusher to read every profile',
      );
    } finally {
      all.child.kill('SIGTERM');
    }
    expect(await exitOf(all.child)).toBe(0);
    expect(mavera.requestsTo('POST').length).toBeGreaterThan(3);
    expect(mavera.requestsTo('PATCH')).toHaveLength(0);
  }, 300_000);

  it('`replay --from earliest --dry-run` with nothing new since the last flush: "no changes", no Mavera request', async () => {
    const requestsBefore = mavera.requests.length;
    const profilesBefore = await profilesHighWatermarks();

    const result = await replay(['--from', 'earliest', '--dry-run']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`events:    ${String(events.length)} read`);
    expect(result.stdout).toContain('profiles:  0 would change against the live table');
    expect(result.stdout).toContain(
      `(${String(mavera.requestsTo('POST').length)} personas in the registry; dry run, nothing sent):\nno changes\n`,
    );
    expect(mavera.requests.length).toBe(requestsBefore);
    expect(await profilesHighWatermarks()).toEqual(profilesBefore);
  }, 120_000);

  it('`replay --from earliest` into generation 1 rebuilds states whose profiles are exactly the live ones', async () => {
    const live = await liveProfiles();
    const profilesBefore = await profilesHighWatermarks();

    const result = await replay(['--from', 'earliest']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('state generation 1 rebuilt');
    expect(result.stdout).toContain(`${String(live.size)} entities, as of ${new Date(end).toISOString()}`);
    expect(result.stdout).toContain('profiles:  0 changed (written)');
    expect(result.stdout).toContain('set STATE_GENERATION=1');
    // The replay creates the new changelog itself where the broker allows it (the mock's was created up front).
    expect(result.stdout.includes(`${topicNames(prefix, 1).changelog} (created)`)).toBe(broker.kind !== 'mock');
    // Nothing differed, so nothing was written: the flusher has nothing new to look at.
    expect(await profilesHighWatermarks()).toEqual(profilesBefore);
    // The new generation's group stands at the end of what it replayed: a processor switched to it continues there.
    expect(await groupProgress(kafka, `${prefix}processor.g1`, [topics.stripeEvents, topics.segmentEvents])).toEqual({
      committed: events.length,
      total: events.length,
    });

    // Generation 1's changelog holds every entity; each state derives the live profile, field for field.
    const changelog = latestByKey(await readTopicToEnd(kafka, topicNames(prefix, 1).changelog));
    const watermark = changelog.get(WATERMARK_KEY);
    expect(watermark?.readDoubleBE(0)).toBe(end);
    changelog.delete(WATERMARK_KEY);
    expect([...changelog.keys()].sort()).toEqual([...live.keys()].sort());
    const codec = createEntityStateCodec(pipeline);
    for (const [key, value] of changelog) {
      const stored = decodeStored(value);
      const profile = profileToRecord(deriveProfile(pipeline, codec.decode(stored.state), end));
      const liveProfile = live.get(key);
      // The live record keeps the time it was last written at when a later evaluation found nothing new.
      expect({ ...profile, as_of: liveProfile?.as_of }).toEqual(liveProfile);
      expect(stored.profileHash).toBe(liveProfile === undefined ? 0 : profileHash(liveProfile));
    }
  }, 120_000);

  it('refuses a generation already in use, and names the changelog topic a broker could not create', async () => {
    await expect(replay(['--from', 'earliest', '--generation', '1'])).rejects.toMatchObject({
      name: 'ReplayRefusedError',
      reason: 'generation_in_use',
    });
    await expect(replay(['--from', 'earliest', '--generation', '0'])).rejects.toThrow(ReplayRefusedError);
    if (broker.kind === 'mock') {
      await expect(replay(['--from', 'earliest', '--generation', '5'])).rejects.toMatchObject({
        reason: 'changelog_not_created',
        message: expect.stringContaining(
          `kafka-topics.sh --create --topic ${topicNames(prefix, 5).changelog} --partitions ${String(PARTITIONS)}`,
        ) as unknown,
      });
    }
  }, 120_000);

  it('with events added after the last flush, the dry run lists exactly the requests a real flush then sends', async () => {
    const replayedBefore = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const extra = canonicalEventsOf(generateTraffic({ seed: 42, customers: 25, users: 25, start: START, months: 4 }));
    const end2 = end + 2 * HOUR;
    const added = [...extra, ...closingEvents('clock2-', end2)];
    await publishCanonical(kafka, { stripe: topics.stripeEvents, segment: topics.segmentEvents }, added);
    const requestsBefore = mavera.requests.length;

    // The profiles the rebuild must produce: the offline core over every event, at the new end.
    const live = await liveProfiles();
    const states = offlineStates(pipeline, [...events, ...added]);
    let expectedChanged = 0;
    for (const [kind, map] of [
      ['customer', states.customers],
      ['user', states.users],
    ] as const) {
      for (const [id, state] of map) {
        const profile = profileToRecord(deriveProfile(pipeline, state, end2));
        const liveProfile = live.get(`${kind}:${id}`);
        if (liveProfile === undefined || profileHash(liveProfile) !== profileHash(profile)) expectedChanged++;
      }
    }
    expect(expectedChanged).toBeGreaterThan(25);

    const dryRun = await replay(['--from', 'earliest', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`profiles:  ${String(expectedChanged)} would change`);
    const predicted = dryRunRequests(dryRun.stdout);
    expect(predicted.length).toBeGreaterThan(0);
    expect(dryRun.stdout).not.toContain('no changes');
    expect(mavera.requests.length).toBe(requestsBefore);

    // Only what arrived after `replayedBefore`: the added events, found by record time.
    const recent = await replay(['--from', new Date(replayedBefore).toISOString(), '--dry-run']);
    expect(recent.code).toBe(0);
    expect(recent.stdout).toContain(`events:    ${String(added.length)} read`);
    expect(recent.stdout).toContain('earlier events are not in this state');
    expect(mavera.requests.length).toBe(requestsBefore);

    // For real into generation 2, then a real flusher: Mavera receives exactly what the dry run listed.
    const written = await replay(['--from', 'earliest', '--generation', '2']);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(`profiles:  ${String(expectedChanged)} changed (written)`);
    const flusher = await startRole('flusher', { LOG_LEVEL: 'info' });
    try {
      // It restores the registry at its first flush (here the one on SIGTERM), once it holds the lock.
      await waitUntil(
        async () => (await flusherActive(flusher.metricsPort)) === 1,
        60_000,
        'the flusher to hold the lock',
      );
      const profileRecords = (await profilesHighWatermarks()).reduce((sum, high) => sum + Number(high), 0);
      await waitUntil(
        async () => (await consumedProfiles(flusher.metricsPort)) >= profileRecords,
        60_000,
        'the flusher to read every profile',
      );
    } finally {
      flusher.child.kill('SIGTERM');
    }
    expect(await exitOf(flusher.child)).toBe(0);
    const sent = mavera.requests
      .slice(requestsBefore)
      .filter((request) => request.method === 'POST' || request.method === 'PATCH')
      .map((request) => ({
        operation: request.method === 'POST' ? 'create' : 'update',
        personaId: request.method === 'PATCH' ? request.path.slice('/personas/'.length) : null,
        body: request.body,
      }));
    const expected = predicted.map(({ operation, personaId, body }) => ({ operation, personaId, body }));
    const order = (a: { operation: string; body: unknown }, b: { operation: string; body: unknown }) =>
      JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(sent.sort(order)).toEqual(expected.sort(order));
  }, 300_000);
});
