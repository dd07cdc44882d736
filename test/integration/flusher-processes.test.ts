import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestByKey, readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { runCli } from '../../src/cli/main.js';
import { generateTraffic, type GeneratedEvent } from '../../src/demo/traffic-generator.js';
import { parsePipelineConfig } from '../../src/domain/pipeline/pipeline-config.js';
import { contentHash, decidePersonaUpdate } from '../../src/domain/personas/index.js';
import type { MaveraPersonaPayload } from '../../src/domain/personas/mavera-payload.js';
import type { SegmentSummary } from '../../src/domain/segments/segment-summary.js';
import { readLastVersion } from '../../src/flusher/persona-registry-state.js';
import { personaRegistryEntrySchema, type PersonaRegistryEntry } from '../../src/records/persona-registry.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { FAKE_MAVERA_KEY, startFakeMavera, type FakeMavera, type StoredPersona } from '../support/fake-mavera.js';
import { freePort } from '../support/free-port.js';
import { canonicalEventsOf, publishCanonical } from '../support/generated-events.js';
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

// Issue #4, tests 4 and 7, with real `processor` and `flusher` processes on the test broker and the fake Mavera:
// Mavera failing for a while; two flusher replicas, the active one killed (kill -9) or stalled (SIGSTOP); a flusher
// whose registry is lost. In each, the personas must end as `simulate` computes them, each created exactly once.

const PARTITIONS = 4;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SESSION_TIMEOUT_MS = 6_000;
const TRAFFIC_START = Date.UTC(2026, 0, 1);
const policy = parsePipelineConfig({}).personas;

let broker: TestBroker;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startTestBroker();
  kafka = quietKafka(broker);
}, 120_000);

afterAll(async () => {
  await broker.stop();
});

// ---- /metrics

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

async function scrape(port: number): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include `labels`. */
function metric(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** persona_stream_mavera_requests_total as `endpoint status` → count (zero samples left out). */
function requestsMetric(samples: readonly Sample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== 'persona_stream_mavera_requests_total' || sample.value === 0) continue;
    counts.set(`${sample.labels['endpoint'] ?? ''} ${sample.labels['status'] ?? ''}`, sample.value);
  }
  return counts;
}

// ---- the fake Mavera's side

/** What the fake answered, as `endpoint status` → count, for its requests from index `since` on. */
function answersByEndpoint(mavera: FakeMavera, since: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of mavera.requests.slice(since)) {
    const endpoint = request.method === 'PATCH' ? 'PATCH /personas/{id}' : `${request.method} ${request.path}`;
    const key = `${endpoint} ${String(request.status)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function writesSince(mavera: FakeMavera, since: number) {
  return mavera.requests.slice(since).filter((request) => request.method === 'POST' || request.method === 'PATCH');
}

/** A persona as the fake holds it, in payload form: top-level fields plus details, "no value" (null, []) left out. */
function storedContent(persona: StoredPersona): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    name: persona.name,
    description: persona.description,
    pipeline_type: persona.pipeline_type,
    type: persona.type,
    ...persona.details,
  };
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== null && !(Array.isArray(value) && value.length === 0)),
  );
}

function contentText(content: object | undefined): string {
  if (content === undefined) return 'none';
  return JSON.stringify(Object.fromEntries(Object.entries(content).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Whether the fake holds exactly one custom persona per expected name, each with exactly that content. */
function holdsExactly(mavera: FakeMavera, expected: ReadonlyMap<string, MaveraPersonaPayload>): boolean {
  const stored = mavera.customPersonas();
  return (
    stored.length === expected.size &&
    stored.every((persona) => contentText(storedContent(persona)) === contentText(expected.get(persona.name)))
  );
}

// ---- the same events offline

/**
 * One Segment event per partition at `at`: every partition's watermark ends at that instant, so every profile is
 * evaluated then — the instant `simulate --at` is given (the closing-events trick of the end-to-end test).
 */
function closingEvents(at: number, tag: string): GeneratedEvent[] {
  return keysForEveryPartition('clock-', PARTITIONS).map((userId, index) => ({
    source: 'segment',
    at,
    raw: {
      type: 'track',
      event: 'Clock Ticked',
      userId,
      messageId: `clock-${tag}-${String(index)}`,
      timestamp: new Date(at).toISOString(),
      properties: {},
    },
  }));
}

/** A closing instant in a fresh hour after every event. */
function closingInstant(events: readonly GeneratedEvent[]): number {
  return (Math.floor(Math.max(...events.map((event) => event.at)) / HOUR) + 2) * HOUR;
}

interface SimulatedPersona {
  readonly family: string;
  readonly segment: string;
  readonly payload: MaveraPersonaPayload;
}

interface Simulated {
  readonly personas: readonly SimulatedPersona[];
  readonly summaries: readonly SegmentSummary[];
}

/** `persona-stream simulate --events FILE --at AT --json` over the raw events. */
async function simulate(events: readonly GeneratedEvent[], at: number, dir: string): Promise<Simulated> {
  const file = join(dir, `events-${String(at)}.ndjson`);
  writeFileSync(file, events.map((event) => JSON.stringify(event.raw)).join('\n'));
  let output = '';
  const code = await runCli(['simulate', '--events', file, '--at', new Date(at).toISOString(), '--json'], {
    stdout: (text) => (output += text),
    stderr: () => undefined,
    readInput: (path) => readFile(path, 'utf8'),
    now: () => at,
    env: {},
  });
  expect(code).toBe(0);
  return JSON.parse(output) as Simulated;
}

function keyOf(subject: { readonly family: string; readonly segment: string }): string {
  return `${subject.family}/${subject.segment}`;
}

function payloadsByName(personas: readonly SimulatedPersona[]): Map<string, MaveraPersonaPayload> {
  return new Map(personas.map((plan) => [plan.payload.name, plan.payload]));
}

// ---- processes

interface FlusherProcess {
  readonly child: ChildProcess;
  readonly metricsPort: number;
}

/** One pipeline under its own topic prefix on the shared broker, sending to `mavera`; owns the processes it starts. */
class Pipeline {
  readonly topics: TopicNames;
  private readonly children = new Set<ChildProcess>();

  private constructor(
    readonly prefix: string,
    readonly mavera: FakeMavera,
    private readonly stateDir: string,
    topics: TopicNames,
  ) {
    this.topics = topics;
  }

  static async create(name: string, mavera: FakeMavera, dir: string): Promise<Pipeline> {
    const prefix = `${broker.prefix}${name}.`;
    return new Pipeline(prefix, mavera, join(dir, name), await createPipelineTopics(broker, prefix, PARTITIONS));
  }

  async publish(events: readonly GeneratedEvent[]): Promise<void> {
    const { stripeEvents, segmentEvents } = this.topics;
    await publishCanonical(kafka, { stripe: stripeEvents, segment: segmentEvents }, canonicalEventsOf(events));
  }

  startProcessor(): ChildProcess {
    return this.spawn('processor', { STATE_DIR: this.stateDir, PROCESSOR_CLOCK_TICK_MS: '0', METRICS_PORT: '0' });
  }

  async waitForProcessor(what: string): Promise<void> {
    const { stripeEvents, segmentEvents } = this.topics;
    await waitUntil(
      async () => {
        const progress = await groupProgress(kafka, `${this.prefix}processor`, [stripeEvents, segmentEvents]);
        return progress.total > 0 && progress.committed === progress.total;
      },
      120_000,
      what,
    );
  }

  /** A flusher flushing every second; a Mavera rate limit high enough not to slow it unless `env` lowers it. */
  async startFlusher(env: Record<string, string> = {}): Promise<FlusherProcess> {
    const metricsPort = await freePort();
    const child = this.spawn('flusher', {
      METRICS_PORT: String(metricsPort),
      MAVERA_API_KEY: FAKE_MAVERA_KEY,
      MAVERA_BASE_URL: this.mavera.url,
      MAVERA_RATE_LIMIT_PER_MIN: '6000',
      FLUSH_INTERVAL_MS: '1000',
      ...env,
    });
    return { child, metricsPort };
  }

  /** Kills whatever still runs: a test that failed half-way leaves no process behind. */
  async close(): Promise<void> {
    const running = [...this.children];
    for (const child of running) child.kill('SIGKILL');
    await Promise.all(running.map(exitOf));
  }

  private spawn(command: string, env: Record<string, string>): ChildProcess {
    const child = startCli([command], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: this.prefix,
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      ...env,
    });
    // Logs (stdout) are not read here: drained, so that a chatty child never blocks on a full pipe.
    child.stdout?.resume();
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SIGTERM: the role drains (a last flush) and exits 0. */
async function stopGracefully(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  expect(await exitOf(child)).toBe(0);
}

/**
 * Waits until the fake holds exactly `expected`, then for two more flushes of `flusher`, which must send nothing:
 * converged, and stable.
 */
async function waitForConvergence(
  mavera: FakeMavera,
  flusher: FlusherProcess,
  expected: ReadonlyMap<string, MaveraPersonaPayload>,
  what: string,
): Promise<void> {
  await waitUntil(() => Promise.resolve(holdsExactly(mavera, expected)), 90_000, what);
  const writes = writesSince(mavera, 0).length;
  const runs = metric(await scrape(flusher.metricsPort), 'persona_stream_flush_runs_total');
  await waitUntil(
    async () => metric(await scrape(flusher.metricsPort), 'persona_stream_flush_runs_total') >= runs + 2,
    30_000,
    'two more flushes',
  );
  expect(writesSince(mavera, 0)).toHaveLength(writes);
}

/** The same profiles table under another prefix (whose personas topic stays empty). */
async function copyProfiles(from: Pipeline, to: Pipeline): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: to.topics.profiles,
      acks: -1,
      messages: (await readTopicToEnd(kafka, from.topics.profiles)).map((record) => ({
        key: record.key,
        value: record.value,
        partition: record.partition,
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Which replica holds the flusher lock (persona_stream_flusher_active); fails unless exactly one does. */
async function leaderAndStandby(
  replicas: readonly FlusherProcess[],
): Promise<{ leader: FlusherProcess; standby: FlusherProcess; standbySamples: Sample[] }> {
  const samples = await Promise.all(replicas.map((replica) => scrape(replica.metricsPort)));
  const active = samples.map((replica) => metric(replica, 'persona_stream_flusher_active'));
  expect([...active].sort()).toEqual([0, 1]);
  const leader = replicas[active.indexOf(1)];
  const standby = replicas[active.indexOf(0)];
  if (leader === undefined || standby === undefined) throw new Error('no leader or no standby');
  return { leader, standby, standbySamples: samples[active.indexOf(0)] ?? [] };
}

async function isActive(flusher: FlusherProcess): Promise<boolean> {
  return metric(await scrape(flusher.metricsPort), 'persona_stream_flusher_active') === 1;
}

function createdCount(mavera: FakeMavera): number {
  return mavera.requestsTo('POST').filter((request) => request.status === 201).length;
}

async function readRegistry(topics: TopicNames): Promise<Map<string, PersonaRegistryEntry>> {
  const table = latestByKey(await readTopicToEnd(kafka, topics.personas));
  return new Map(
    [...table].map(([key, value]) => [key, personaRegistryEntrySchema.parse(JSON.parse(value.toString('utf8')))]),
  );
}

describe('flusher process against a Mavera answering 429 and 5xx for a while', () => {
  let mavera: FakeMavera;
  let pipeline: Pipeline;
  const dir = mkdtempSync(join(tmpdir(), 'persona-stream-flusher-faults-'));

  beforeAll(async () => {
    mavera = await startFakeMavera({ ratePerMinute: 10_000 });
    pipeline = await Pipeline.create('flusher-faults', mavera, dir);
  });

  afterAll(async () => {
    await pipeline.close();
    await mavera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The flusher's own counters agree with what the fake saw since `since`: requests by endpoint and status; 429s;
   * and retries — every write but the one that finally succeeded repeats the same create/update (within a flush or
   * carried over to the next), and every failed list request was retried.
   */
  function expectMetricsMatchFake(samples: readonly Sample[], since: number, listRetries: number): void {
    expect(requestsMetric(samples)).toEqual(answersByEndpoint(mavera, since));
    const writes = writesSince(mavera, since);
    const succeeded = writes.filter((request) => request.status >= 200 && request.status < 300);
    expect(
      metric(samples, 'persona_stream_mavera_retries_total', { endpoint: 'POST /personas' }) +
        metric(samples, 'persona_stream_mavera_retries_total', { endpoint: 'PATCH /personas/{id}' }),
    ).toBe(writes.length - succeeded.length);
    expect(metric(samples, 'persona_stream_mavera_retries_total', { endpoint: 'GET /personas' })).toBe(listRetries);
    expect(metric(samples, 'persona_stream_mavera_rate_limited_total')).toBe(
      mavera.requests.slice(since).filter((request) => request.status === 429).length,
    );
  }

  it('converges on simulate’s personas: each created once, no update lost, retries and 429s on /metrics', async () => {
    // Four months of traffic. Phase 1: the first 60 %, closed at `start2`; phase 2: the next five days, closed at
    // `end`. (Events between phase 1's last one and `start2`, an hour or two, are left out of both.)
    const traffic = generateTraffic({ seed: 21, customers: 40, users: 40, start: TRAFFIC_START, months: 4 });
    const cut = TRAFFIC_START + Math.floor((Math.max(...traffic.map((event) => event.at)) - TRAFFIC_START) * 0.6);
    const phase1 = traffic.filter((event) => event.at < cut);
    const start2 = closingInstant(phase1);
    const phase2 = traffic.filter((event) => event.at >= start2 && event.at < start2 + 5 * DAY);
    const end = closingInstant(phase2);
    const input1 = [...phase1, ...closingEvents(start2, 'phase1')];
    const input2 = [...phase2, ...closingEvents(end, 'phase2')];
    const simulated1 = await simulate(input1, start2, dir);
    const simulated2 = await simulate([...input1, ...input2], end, dir);
    expect(simulated1.personas.length).toBeGreaterThan(5);

    pipeline.startProcessor();
    await pipeline.publish(input1);
    await pipeline.waitForProcessor('the processor to commit phase 1');

    // ---- Phase 1: every persona is created while Mavera fails. Faults are taken in this order, per method: two
    // 502s on the first list; four 503s use up one create's attempts in the first flush (carried over to the next);
    // then the next create meets a 503, two 429s (Retry-After: 1) and a 503 after Mavera carried it out — an
    // outcome the flusher cannot know, so it must find that persona by name instead of creating it again.
    mavera.failNext(2, 502, { method: 'GET' });
    mavera.failNext(5, 503, { method: 'POST' });
    mavera.rateLimitNext(2, 1, 'POST');
    mavera.failNext(1, 503, { method: 'POST', afterApply: true });
    const since1 = mavera.requests.length;
    const flusher1 = await pipeline.startFlusher();
    const expected1 = payloadsByName(simulated1.personas);
    await waitForConvergence(mavera, flusher1, expected1, 'the phase-1 personas in Mavera');

    // One persona per segment, charged once, holding exactly simulate's payload (waitForConvergence).
    expect(mavera.creditsUsed).toBe(300 * expected1.size);
    const samples1 = await scrape(flusher1.metricsPort);
    expectMetricsMatchFake(samples1, since1, 2);
    expect(metric(samples1, 'persona_stream_mavera_rate_limited_total')).toBe(2);
    expect(metric(samples1, 'persona_stream_flush_runs_total', { result: 'partial' })).toBeGreaterThanOrEqual(1);
    await stopGracefully(flusher1.child);

    const registry1 = await readRegistry(pipeline.topics);
    expect([...registry1.values()].map((entry) => entry.content_hash).sort()).toEqual(
      simulated1.personas.map((plan) => contentHash(plan.payload)).sort(),
    );

    // ---- Phase 2: five more days of events, processed while no flusher runs; then a restarted flusher (registry
    // restored from the personas topic) sees the final profiles table at its first flush. It PATCHes only MATERIAL
    // changes (decidePersonaUpdate against the last sent version): a segment whose final payload differs from the
    // sent one only within the thresholds keeps its phase-1 content, by design. Since the first flush already sees
    // the final table, each persona's final content is exact: simulate's phase-2 payload when that change is
    // material, else the phase-1 payload it holds.
    await pipeline.publish(input2);
    await pipeline.waitForProcessor('the processor to commit phase 2');
    const expected2 = new Map<string, MaveraPersonaPayload>();
    const material: string[] = [];
    const materialNames: string[] = [];
    const withinThresholds: string[] = [];
    for (const plan of simulated2.personas) {
      const key = keyOf(plan);
      const summary = simulated2.summaries.find((candidate) => keyOf(candidate) === key);
      const entry = registry1.get(key);
      const last = entry === undefined ? undefined : readLastVersion(entry);
      if (summary === undefined || last === null) throw new Error(`${key}: no summary, or an unreadable entry`);
      if (
        last !== undefined &&
        decidePersonaUpdate(last, { payload: plan.payload, summary }, policy).action === 'none'
      ) {
        withinThresholds.push(key);
        expected2.set(last.payload.name, last.payload);
      } else {
        material.push(key);
        materialNames.push(plan.payload.name);
        expected2.set(plan.payload.name, plan.payload);
      }
    }
    // The traffic (fixed seed) has both kinds, so both rules are exercised.
    expect(material.length).toBeGreaterThanOrEqual(3);
    expect(withinThresholds.length).toBeGreaterThanOrEqual(1);

    // PATCHes fail too: two 503s, a 429, a PATCH carried out but answered 500 (sent again: a PATCH of the whole
    // payload is idempotent), then four 503s in a row that carry an update over to the next flush.
    mavera.failNext(2, 503, { method: 'PATCH' });
    mavera.rateLimitNext(1, 1, 'PATCH');
    mavera.failNext(1, 500, { method: 'PATCH', afterApply: true });
    mavera.failNext(4, 503, { method: 'PATCH' });
    const since2 = mavera.requests.length;
    const personaIds = mavera.customPersonas().map((persona) => persona.id);
    const flusher2 = await pipeline.startFlusher();
    await waitForConvergence(mavera, flusher2, expected2, 'the phase-2 personas in Mavera');

    // The same personas, nothing created; every material change PATCHed once it got through.
    expect(mavera.customPersonas().map((persona) => persona.id)).toEqual(personaIds);
    expect(mavera.requests.slice(since2).filter((request) => request.method !== 'PATCH')).toEqual([]);
    expect(
      new Set(
        writesSince(mavera, since2)
          .filter((request) => request.status === 200)
          .map((request) => (request.body as { name: string }).name),
      ),
    ).toEqual(new Set(materialNames));
    const samples2 = await scrape(flusher2.metricsPort);
    expectMetricsMatchFake(samples2, since2, 0);
    expect(metric(samples2, 'persona_stream_mavera_rate_limited_total')).toBe(1);
    await stopGracefully(flusher2.child);

    // The registry says so too: the last sent content is simulate's phase-2 payload for each material change, and
    // still the phase-1 payload for each change within the thresholds.
    const registry2 = await readRegistry(pipeline.topics);
    for (const plan of simulated2.personas) {
      const key = keyOf(plan);
      expect(registry2.get(key)?.content_hash, key).toBe(
        material.includes(key) ? contentHash(plan.payload) : registry1.get(key)?.content_hash,
      );
    }
  }, 300_000);
});

describe('two flusher replicas', () => {
  let mavera: FakeMavera;
  let pipeline: Pipeline;
  let simulated: Simulated;
  const dir = mkdtempSync(join(tmpdir(), 'persona-stream-flusher-replicas-'));

  beforeAll(async () => {
    // Lists carry every field, so a persona found by name that already holds its payload needs no call at all.
    mavera = await startFakeMavera({ ratePerMinute: 10_000, listIncludesDetails: true });
    pipeline = await Pipeline.create('flusher-replicas', mavera, dir);
    const traffic = generateTraffic({ seed: 21, customers: 40, users: 40, start: TRAFFIC_START, months: 4 });
    const end = closingInstant(traffic);
    const input = [...traffic, ...closingEvents(end, 'end')];
    simulated = await simulate(input, end, dir);
    const processor = pipeline.startProcessor();
    await pipeline.publish(input);
    await pipeline.waitForProcessor('the processor to commit every event');
    await stopGracefully(processor);
  }, 180_000);

  afterAll(async () => {
    await pipeline.close();
    await mavera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exactly one sends; after a kill -9 of it the other takes over within the session timeout; no duplicate', async () => {
    const expected = payloadsByName(simulated.personas);
    // Mavera's default rate limit (60/min, bursts of 3) stretches the first flush over several seconds, so that the
    // kill lands in the middle of it: some personas created, none of them in the registry yet (the registry is
    // written at the end of a flush), the rest not created.
    const replicas = await Promise.all([
      pipeline.startFlusher({ MAVERA_RATE_LIMIT_PER_MIN: '60' }),
      pipeline.startFlusher({ MAVERA_RATE_LIMIT_PER_MIN: '60' }),
    ]);
    await waitUntil(() => Promise.resolve(createdCount(mavera) >= 3), 90_000, 'the first creates');

    const { leader, standby, standbySamples } = await leaderAndStandby(replicas);
    // The standby has not flushed or called Mavera at all.
    expect(metric(standbySamples, 'persona_stream_flush_runs_total')).toBe(0);
    expect(metric(standbySamples, 'persona_stream_mavera_requests_total')).toBe(0);
    // Its lock member is under liveness (a member kafkajs left down would make a standby that can never take over).
    const health = (await (await fetch(`http://127.0.0.1:${String(standby.metricsPort)}/healthz`)).json()) as {
      checks: Record<string, { ok: boolean; detail: string }>;
    };
    expect(health.checks['flusher-lock']).toMatchObject({ ok: true });

    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    await exitOf(leader.child);
    const since = mavera.requests.length;
    const createdByLeader = createdCount(mavera);
    expect(createdByLeader).toBeLessThan(expected.size);
    await waitUntil(() => isActive(standby), 30_000, 'the standby to take over');
    // The coordinator declares the killed member dead one session timeout after its last heartbeat; the rebalance
    // that follows hands the lock over. A broker completes that rebalance as soon as the live members rejoined
    // (about a heartbeat interval); the librdkafka mock first waits a session timeout less a second for more
    // members (measured here: 12-13 s in all). Hence the bound: the session timeout, the mock's wait, and slack.
    expect(Date.now() - killedAt).toBeLessThan(2 * SESSION_TIMEOUT_MS + 4_000);

    await waitForConvergence(mavera, standby, expected, 'every persona in Mavera');
    // Each persona created exactly once: the new leader found the killed one's personas by name and, their content
    // being already right, sent them nothing; it created only the others.
    expect(mavera.requestsTo('POST')).toHaveLength(expected.size);
    expect(mavera.requestsTo('PATCH')).toEqual([]);
    expect(mavera.creditsUsed).toBe(300 * expected.size);
    expect(metric(await scrape(standby.metricsPort), 'persona_stream_mavera_requests_total')).toBe(
      mavera.requests.length - since,
    );
    const registry = await readRegistry(pipeline.topics);
    const idsByName = new Map(mavera.customPersonas().map((persona) => [persona.name, persona.id]));
    expect(new Map([...registry].map(([key, entry]) => [key, entry.persona_id]))).toEqual(
      new Map(simulated.personas.map((plan) => [keyOf(plan), idsByName.get(plan.payload.name)])),
    );
    await stopGracefully(standby.child);
  }, 180_000);

  // Starts from the state the test above leaves: the fake Mavera holds every persona.
  it('a flusher whose registry is lost adopts the existing personas by name: no duplicate', async () => {
    // A fresh prefix: its profiles topic holds the same table, its personas topic is empty.
    const fresh = await Pipeline.create('flusher-lost-registry', mavera, dir);
    await copyProfiles(pipeline, fresh);
    // Someone edited one persona in the Mavera app meanwhile: adopted, it is PATCHed back to its payload.
    const edited = mavera.customPersonas()[0];
    if (edited === undefined) throw new Error('no persona to edit');
    edited.description = 'Edited by hand in the Mavera app';
    const ids = mavera.customPersonas().map((persona) => persona.id);
    const since = mavera.requests.length;

    const flusher = await fresh.startFlusher();
    try {
      await waitForConvergence(mavera, flusher, payloadsByName(simulated.personas), 'every persona in Mavera');
    } finally {
      await stopGracefully(flusher.child);
      await fresh.close();
    }
    expect(mavera.customPersonas().map((persona) => persona.id)).toEqual(ids);
    expect(writesSince(mavera, since).map((request) => `${request.method} ${request.path}`)).toEqual([
      `PATCH /personas/${edited.id}`,
    ]);
    const registry = await readRegistry(fresh.topics);
    expect([...registry.values()].map((entry) => entry.persona_id).sort()).toEqual([...ids].sort());
  }, 120_000);

  it('an active flusher stalled (SIGSTOP) past the session timeout sends nothing when it resumes; no duplicate', async () => {
    // A GC pause or a network partition: the coordinator hands the lock to the standby, which adopts the personas
    // the stalled one created, creates more, and dies mid-flush (kill -9, before its registry write). The stalled
    // one then resumes in the middle of its old flush: it must send nothing (its lock is gone), and once it holds
    // the lock again it must list Mavera's personas anew rather than trust its old list, or it would create its
    // successor's personas a second time.
    const stallMavera = await startFakeMavera({ ratePerMinute: 10_000, listIncludesDetails: true });
    const stall = await Pipeline.create('flusher-stall', stallMavera, dir);
    try {
      await copyProfiles(pipeline, stall);
      const expected = payloadsByName(simulated.personas);
      const replicas = await Promise.all([
        stall.startFlusher({ MAVERA_RATE_LIMIT_PER_MIN: '60' }),
        stall.startFlusher({ MAVERA_RATE_LIMIT_PER_MIN: '60' }),
      ]);
      await waitUntil(() => Promise.resolve(createdCount(stallMavera) >= 3), 90_000, 'the first creates');
      const { leader: stalled, standby: successor } = await leaderAndStandby(replicas);
      stalled.child.kill('SIGSTOP');
      await sleep(500);
      // Every request so far came from the stalled replica (the successor sends nothing before it holds the lock).
      const sentBeforeStall = stallMavera.requests.length;
      await waitUntil(() => isActive(successor), 30_000, 'the successor to take over');
      const createdAtTakeover = createdCount(stallMavera);
      await waitUntil(
        () => Promise.resolve(createdCount(stallMavera) > createdAtTakeover),
        30_000,
        'the successor to create personas',
      );
      successor.child.kill('SIGKILL');
      await exitOf(successor.child);
      expect(createdCount(stallMavera)).toBeLessThan(expected.size);

      stalled.child.kill('SIGCONT');
      // Its lock expired while it was stopped, and it holds it again only after the successor's session expires:
      // meanwhile it has sent nothing (requests are counted here as they are made, failed ones included).
      await sleep(2_000);
      expect(metric(await scrape(stalled.metricsPort), 'persona_stream_mavera_request_duration_seconds_count')).toBe(
        sentBeforeStall,
      );

      await waitForConvergence(stallMavera, stalled, expected, 'every persona in Mavera');
      expect(stallMavera.requestsTo('POST')).toHaveLength(expected.size);
      expect(stallMavera.creditsUsed).toBe(300 * expected.size);
      await stopGracefully(stalled.child);
    } finally {
      await stall.close();
      await stallMavera.close();
    }
  }, 180_000);
});
