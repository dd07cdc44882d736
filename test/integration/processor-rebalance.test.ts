import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import kafkajs, { type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coPartitionedAssignment } from '../../src/adapters/kafka/co-partitioned-assigner.js';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../src/domain/pipeline/pipeline.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { freePort } from '../support/free-port.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
import { offlineStates, profileMismatches } from '../support/offline-reference.js';
import {
  createPipelineTopics,
  exitOf,
  groupProgress,
  quietKafka,
  startCli,
  waitUntil,
} from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const { AssignerProtocol, KafkaJSError } = kafkajs;

const PARTITIONS = 6;
const pipeline = createPipeline(parsePipelineConfig({}));

/** A `persona-stream processor` process; its KAFKA_CLIENT_ID is `name`, which is how the group lists it. */
interface Member {
  readonly name: string;
  readonly child: ChildProcess;
  readonly metricsPort: number;
}

/** Which partitions each member holds: `name` → sorted partition numbers. */
type Ownership = ReadonlyMap<string, readonly number[]>;

/** A retriable broker answer (NOT_COORDINATOR while a fresh broker loads __consumer_offsets): ask again later. */
async function unlessRetriable<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof KafkaJSError && error.retriable) return undefined;
    throw error;
  }
}

/** The partitions the process says it has restored and processes (its processor-state readiness), if it is ready. */
async function reportedPartitions(member: Member): Promise<number[] | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${String(member.metricsPort)}/readyz`);
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as { checks?: Record<string, { detail?: string }> };
    const detail = /^partitions (.+) restored$/.exec(body.checks?.['processor-state']?.detail ?? '')?.[1];
    if (detail === undefined) return undefined;
    return detail === 'none' ? [] : detail.split(',').map(Number);
  } catch {
    // Not listening yet.
    return undefined;
  }
}

/** persona_stream_restored_records_total of the process: changelog records it has read to restore state. */
async function restoredRecords(member: Member): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${String(member.metricsPort)}/metrics`)).text();
  const value = /^persona_stream_restored_records_total (\d+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error(`${member.name}: no restored_records_total in its metrics`);
  return Number(value);
}

describe('processor group: grows to 3 and 4 members, then shrinks by a kill -9 and a graceful leave, mid-stream', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let topics: TopicNames;
  let prefix: string;
  const directories: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    prefix = `${broker.prefix}rebalance.`;
    topics = await createPipelineTopics(broker, prefix, PARTITIONS);
    kafka = quietKafka(broker);
  }, 120_000);

  // Whatever a failing test leaves running must not outlive the suite.
  const members: Member[] = [];

  afterAll(async () => {
    const running = members.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    for (const { child } of running) child.kill('SIGKILL');
    // Only those still running: exitOf never settles for a child a signal has already ended.
    await Promise.all(running.map(({ child }) => exitOf(child)));
    await broker.stop();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  /** Each member has a state directory of its own: a partition it gains is restored from the changelog. */
  const startMember = async (name: string): Promise<Member> => {
    const stateDir = mkdtempSync(join(tmpdir(), 'persona-stream-rebalance-'));
    directories.push(stateDir);
    const metricsPort = await freePort();
    const child = startCli(['processor'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_CLIENT_ID: name,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      STATE_DIR: stateDir,
      PROCESSOR_CLOCK_TICK_MS: '0',
      METRICS_PORT: String(metricsPort),
    });
    const member = { name, child, metricsPort };
    members.push(member);
    return member;
  };

  it('every partition has one owner at each size, gained partitions are restored, and the profiles match the offline core', async () => {
    const traffic = generateTraffic({ seed: 3, customers: 500, users: 500, start: Date.UTC(2026, 0, 1), months: 6 });
    const events = canonicalEventsOf(traffic);
    const eventTopics = [topics.stripeEvents, topics.segmentEvents];
    const group = `${prefix}processor`;
    const slices = 5;
    const slice = (n: number) =>
      events.slice(Math.floor((n * events.length) / slices), Math.floor(((n + 1) * events.length) / slices));
    let published = 0;
    const publish = async (n: number) => {
      const part = slice(n);
      await publishCanonical(kafka, { stripe: topics.stripeEvents, segment: topics.segmentEvents }, part);
      published += part.length;
    };

    /**
     * The group as the broker sees it, if it is stable with exactly `live` as members: each member's partitions, which
     * must be the same numbers on both event topics (one state partition, one owner).
     */
    const brokerOwnership = async (live: readonly Member[]): Promise<Ownership | undefined> => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const described = await unlessRetriable(() => admin.describeGroups([group]));
        const described0 = described?.groups[0];
        if (described0?.state !== 'Stable') return undefined;
        const names = described0.members.map((member) => member.clientId).sort();
        if (JSON.stringify(names) !== JSON.stringify(live.map((member) => member.name).sort())) return undefined;
        // The co-partitioned assignor over these member ids, as the group leader computed it.
        const expected = coPartitionedAssignment(
          described0.members.map((member) => member.memberId),
          eventTopics,
          PARTITIONS,
        );
        const ownership = new Map<string, number[]>();
        for (const member of described0.members) {
          const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
          const [stripe, segment] = eventTopics.map((topic) => [...(assignment[topic] ?? [])].sort((a, b) => a - b));
          expect(segment, `${member.clientId}: partition p of both event topics`).toEqual(stripe);
          expect(assignment, `${member.clientId}: the co-partitioned assignment`).toEqual(
            expected.get(member.memberId),
          );
          ownership.set(member.clientId, stripe ?? []);
        }
        return ownership;
      } finally {
        await admin.disconnect();
      }
    };

    /**
     * Waits until the group is stable with exactly `live`, every one of them ready with the partitions the broker
     * assigned it (restored), and every published event committed; returns who owns what then.
     */
    const settled = async (live: readonly Member[], what: string): Promise<Ownership> => {
      let last: unknown;
      let ownership: Ownership | undefined;
      await waitUntil(
        async () => {
          const progress = await unlessRetriable(() => groupProgress(kafka, group, eventTopics));
          const fromBroker = await brokerOwnership(live);
          const fromMembers = new Map(
            await Promise.all(live.map(async (member) => [member.name, await reportedPartitions(member)] as const)),
          );
          last = { progress, fromBroker: fromBroker && [...fromBroker], fromMembers: [...fromMembers] };
          if (progress?.committed !== published || progress.total !== published || fromBroker === undefined) {
            return false;
          }
          // Each process holds (restored, ready) exactly what the broker assigned it: no revoked partition lingers.
          const agree = live.every(
            ({ name }) => JSON.stringify(fromMembers.get(name)) === JSON.stringify(fromBroker.get(name)),
          );
          if (!agree) return false;
          ownership = fromBroker;
          return true;
        },
        60_000,
        what,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}; last seen ${JSON.stringify(last)}`);
      });
      if (ownership === undefined) throw new Error('unreachable: settled without an ownership');
      // Exactly one owner per partition: the members' partitions are disjoint and cover them all.
      const owned = [...ownership.values()].flat().sort((a, b) => a - b);
      expect(owned, `${what}: each partition owned once`).toEqual([...Array(PARTITIONS).keys()]);
      return ownership;
    };

    /** Members that hold a partition now that they did not hold before, and so must have restored it. */
    const gainers = (before: Ownership, after: Ownership): string[] =>
      [...after]
        .filter(([name, partitions]) => partitions.some((p) => !(before.get(name) ?? []).includes(p)))
        .map(([name]) => name);
    const restoredBy = async (live: readonly Member[]) =>
      new Map(await Promise.all(live.map(async (member) => [member.name, await restoredRecords(member)] as const)));
    /** Every gainer read changelog records since `before`: it restored the state that the previous owner wrote. */
    const expectRestored = async (live: readonly Member[], before: ReadonlyMap<string, number>, gained: string[]) => {
      const after = await restoredBy(live);
      expect(gained.length, 'some member gained partitions').toBeGreaterThan(0);
      for (const name of gained) {
        expect(after.get(name), `${name} restored the partitions it gained`).toBeGreaterThan(before.get(name) ?? 0);
      }
    };

    // One member processes the first slice: every partition's state is in the changelog before the group grows.
    const a = await startMember('member-a');
    await publish(0);
    let ownership = await settled([a], 'member-a alone to process the first slice');
    let restored = await restoredBy([a]);

    // Growth to 3 while the second slice arrives: two new members, with empty stores.
    const [b, c] = await Promise.all([startMember('member-b'), startMember('member-c')]);
    let live = [a, b, c];
    await publish(1);
    let next = await settled(live, 'the group to grow to 3 and process the second slice');
    expect([...next.values()].map((partitions) => partitions.length)).toEqual([2, 2, 2]);
    await expectRestored(live, restored, gainers(ownership, next));
    expect(gainers(ownership, next)).toEqual(expect.arrayContaining(['member-b', 'member-c']));
    [ownership, restored] = [next, await restoredBy(live)];

    // Growth to 4.
    const d = await startMember('member-d');
    live = [a, b, c, d];
    await publish(2);
    next = await settled(live, 'the group to grow to 4 and process the third slice');
    expect([...next.values()].map((partitions) => partitions.length).sort()).toEqual([1, 1, 2, 2]);
    await expectRestored(live, restored, gainers(ownership, next));
    [ownership, restored] = [next, await restoredBy(live)];

    // Shrink to 3: a member dies mid-stream; once its session has timed out, the survivors restore its partitions.
    await publish(3);
    b.child.kill('SIGKILL');
    await exitOf(b.child);
    live = [a, c, d];
    next = await settled(live, 'the group to shrink to 3 after a kill -9 and process the fourth slice');
    expect([...next.values()].map((partitions) => partitions.length)).toEqual([2, 2, 2]);
    await expectRestored(live, restored, gainers(ownership, next));
    [ownership, restored] = [next, await restoredBy(live)];

    // Shrink to 2: a member drains and leaves the group (SIGTERM), the rebalance starts at once.
    await publish(4);
    c.child.kill('SIGTERM');
    expect(await exitOf(c.child)).toBe(0);
    live = [a, d];
    next = await settled(live, 'the group to shrink to 2 after a graceful leave and process the last slice');
    expect([...next.values()].map((partitions) => partitions.length)).toEqual([3, 3]);
    await expectRestored(live, restored, gainers(ownership, next));

    expect(published).toBe(events.length);
    for (const member of live) member.child.kill('SIGTERM');
    expect(await Promise.all(live.map((member) => exitOf(member.child)))).toEqual([0, 0]);

    const table = latestByKey(await readTopicToEnd(kafka, topics.profiles));
    expect(profileMismatches(pipeline, offlineStates(pipeline, events), table)).toEqual([]);
  }, 180_000);
});
