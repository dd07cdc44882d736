import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicCatalogue } from '../../src/adapters/kafka/topic-catalogue.js';
import { readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { runCli } from '../../src/cli/main.js';
import { closingEvents, closingInstant } from '../../src/demo/closing-events.js';
import { demoTraffic, type DemoSizes } from '../../src/demo/demo-sizes.js';
import { REPORT_SECTIONS } from '../../src/demo/demo-report.js';
import { demoPipelineConfig } from '../../src/demo/demo-settings.js';
import {
  createEmbeddedTopics,
  EMBEDDED_EVENT_PARTITIONS,
  type EmbeddedBrokerKind,
} from '../../src/demo/embedded-broker.js';
import { canonicalTraffic } from '../../src/demo/publish-traffic.js';
import { generateTraffic, type GeneratedEvent } from '../../src/demo/traffic-generator.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import type { TopicNames } from '../../src/roles/runtime.js';
import { CLI, createPipelineTopics, quietKafka } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const { ConfigResourceTypes } = kafkajs;
const HOUR = 3_600_000;
const work = mkdtempSync(join(tmpdir(), 'persona-stream-demo-test-'));

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `persona-stream <args>` as a real process (the built CLI), with the environment a user without any setup has. */
function runBuiltCli(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  expectedCode = 0,
): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      ...process.env,
      KAFKA_BROKERS: '',
      KAFKA_TOPIC_PREFIX: '',
      SCHEMA_REGISTRY_URL: '',
      MAVERA_API_KEY: '',
      PIPELINE_CONFIG: '',
      REPORTING_CURRENCY: '',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== expectedCode)
        process.stderr.write(`persona-stream ${args.join(' ')} exited ${String(code)}:\n${stderr}\n`);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The lines of a report section: from its heading to the next blank line. */
function section(stdout: string, heading: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(heading));
  if (start < 0) throw new Error(`no "${heading}" section in:\n${stdout}`);
  const end = lines.findIndex((line, index) => index > start && line === '');
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The requests of a formatDryRunDiff printout: `create family/segment (reasons)` then the body on the next line. */
function dryRunRequests(lines: readonly string[]): Map<string, { operation: string; body: unknown }> {
  const requests = new Map<string, { operation: string; body: unknown }>();
  lines.forEach((line, index) => {
    const match = /^(create|update) (\S+) \(/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) return;
    requests.set(match[2], { operation: match[1], body: JSON.parse(lines[index + 1]?.trim() ?? '') });
  });
  return requests;
}

interface SimulateOutput {
  readonly profiles: readonly { readonly kind: string }[];
  readonly summaries: readonly { readonly family: string; readonly segment: string; readonly count: number }[];
  readonly personas: readonly {
    readonly family: string;
    readonly segment: string;
    readonly payload: unknown;
    readonly decision: { readonly action: string };
  }[];
}

/** `simulate --json` over exactly the events the demo sends, with the demo's pipeline file, at the closing instant. */
async function simulate(events: readonly GeneratedEvent[], at: number): Promise<SimulateOutput> {
  const eventsFile = join(work, 'demo-events.ndjson');
  writeFileSync(eventsFile, events.map((event) => JSON.stringify(event.raw)).join('\n'));
  const configFile = join(work, 'demo-pipeline.json');
  writeFileSync(configFile, JSON.stringify(demoPipelineConfig('usd')));
  let output = '';
  const code = await runCli(
    ['simulate', '--events', eventsFile, '--config', configFile, '--at', new Date(at).toISOString(), '--json'],
    {
      stdout: (text) => (output += text),
      stderr: () => undefined,
      readInput: (path) => readFile(path, 'utf8'),
      now: () => at,
      env: {},
    },
  );
  expect(code).toBe(0);
  return JSON.parse(output) as SimulateOutput;
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The embedded broker the demo said it started (its one line on stderr). */
function embeddedBrokerOf(stderr: string): EmbeddedBrokerKind {
  const said = /^demo: KAFKA_BROKERS is not set: embedded broker: (Apache Kafka|librdkafka mock cluster)/m.exec(stderr);
  if (said === null) throw new Error(`the demo did not say which embedded broker it started:\n${stderr}`);
  return said[1] === 'Apache Kafka' ? 'apache-kafka' : 'mock';
}

describe('persona-stream demo (embedded broker, every role in one process)', () => {
  const sizes: DemoSizes = { customers: 40, users: 60, months: 2, seed: 7 };
  const traffic = generateTraffic(demoTraffic(sizes));
  const end = closingInstant(traffic, HOUR);
  let partitions: number;
  let sent: GeneratedEvent[];
  let run: CliRun;
  let simulated: SimulateOutput;

  beforeAll(async () => {
    run = await runBuiltCli(
      [
        'demo',
        '--customers',
        String(sizes.customers),
        '--users',
        String(sizes.users),
        '--months',
        String(sizes.months),
        '--seed',
        String(sizes.seed),
      ],
      { PROCESSOR_REFRESH_INTERVAL_MS: String(HOUR), FLUSH_INTERVAL_MS: '2000' },
      150_000,
    );
    // One closing event per partition, and the partitions depend on the broker the demo found.
    partitions = EMBEDDED_EVENT_PARTITIONS[embeddedBrokerOf(run.stderr)];
    sent = [...traffic, ...closingEvents(end, partitions)];
    simulated = await simulate(sent, end);
  }, 180_000);

  it('runs on a machine with no Kafka configured, prints progress as it goes, and exits 0', () => {
    expect(run.code).toBe(0);
    // This machine has a JDK (the integration tests' own broker needs one): the demo runs on Apache Kafka.
    expect(run.stderr).toMatch(
      /^demo: KAFKA_BROKERS is not set: embedded broker: Apache Kafka \d+\.\d+\.\d+ \(local KRaft/m,
    );
    expect(run.stderr).toMatch(
      /demo: [\d.]+ s \| simulated \d{4}-\d{2}-\d{2} \| events in [\d,]+ \([\d,]+\/s\) \| processed [\d,]+ \| profiles written [\d,]+ \| flushes \d+/,
    );
    expect(run.stdout).toMatch(/demo: done in [\d.]+ s\n$/);
  });

  it('prints the events that went in through the connectors, every one processed', () => {
    const stripe = sent.filter((event) => event.source === 'stripe').length;
    const segment = sent.length - stripe;
    const lines = section(run.stdout, REPORT_SECTIONS.events);
    expect(lines).toContain(
      `  Stripe webhooks accepted   ${stripe.toLocaleString('en-US')} (${String(partitions)} of them ` +
        `closing events, one per partition, at ${new Date(end).toISOString()})`,
    );
    expect(
      lines.some((line) => line.startsWith(`  Segment messages accepted  ${segment.toLocaleString('en-US')} in `)),
    ).toBe(true);
    expect(lines).toContain(
      `  on the event topics        stripe.events ${stripe.toLocaleString('en-US')}, segment.events ${segment.toLocaleString('en-US')}`,
    );
    expect(lines).toContain(
      `  processed                  ${sent.length.toLocaleString('en-US')} records, 0 dead-lettered`,
    );
  });

  it('derives the profiles `simulate` derives, every one at the closing instant', () => {
    const customers = simulated.profiles.filter((profile) => profile.kind === 'customer').length;
    const users = simulated.profiles.length - customers;
    expect(customers).toBe(sizes.customers + partitions);
    expect(users).toBe(sizes.users);
    const lines = section(run.stdout, REPORT_SECTIONS.profiles);
    expect(lines[0]).toBe(
      `${REPORT_SECTIONS.profiles}: ${String(customers + users)} (${String(customers)} customers, ${String(users)} users)`,
    );
    expect(lines).toContain(
      `  judged at                  ${new Date(end).toISOString()} (the watermark of all ${String(partitions)} partitions)`,
    );
  });

  it('prints the segment summaries `simulate` computes for the same events', () => {
    const rows = section(run.stdout, REPORT_SECTIONS.segments)
      .slice(2)
      .map((line) => /^ {2}(\S+)\s+(\d[\d,]*)(?: |$)/.exec(line))
      .map((match) => [match?.[1], Number(match?.[2]?.replaceAll(',', ''))]);
    expect(rows).toEqual(simulated.summaries.map((summary) => [`${summary.family}/${summary.segment}`, summary.count]));
  });

  it('ends with exactly the persona creates `simulate` would send, byte for byte', () => {
    const lines = section(run.stdout, REPORT_SECTIONS.personas);
    expect(lines[0]).toBe(
      `${REPORT_SECTIONS.personas} the flusher would send to Mavera: ${String(simulated.personas.length)} (dry run, nothing was sent; ` +
        `${/; (\d+) flushes\)$/.exec(lines[0] ?? '')?.[1] ?? '?'} flushes)`,
    );
    expect(simulated.personas.length).toBeGreaterThanOrEqual(4);
    const printed = dryRunRequests(lines);
    expect([...printed.keys()].sort()).toEqual(
      simulated.personas.map((persona) => `${persona.family}/${persona.segment}`).sort(),
    );
    for (const persona of simulated.personas) {
      expect(persona.decision.action).toBe('create');
      expect(printed.get(`${persona.family}/${persona.segment}`)).toEqual({
        operation: 'create',
        body: persona.payload,
      });
    }
  });
});

describe('persona-stream demo against KAFKA_BROKERS', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let topics: TopicNames;
  let prefix: string;
  const sizes: DemoSizes = { customers: 15, users: 20, months: 2, seed: 11 };
  const partitions = 4;

  beforeAll(async () => {
    broker = await startTestBroker();
    prefix = `${broker.prefix}demo-publish.`;
    topics = await createPipelineTopics(broker, prefix, partitions);
    kafka = quietKafka(broker);
  }, 120_000);

  afterAll(async () => {
    await broker.stop();
  });

  const brokerEnv = () => ({ KAFKA_BROKERS: broker.bootstrapServers.join(','), KAFKA_TOPIC_PREFIX: prefix });
  const publishArgs = ['demo', '--publish-only', '--customers', '15', '--users', '20', '--months', '2', '--seed', '11'];

  async function eventRecords(
    topic: string,
  ): Promise<{ partition: number; offset: string; event: CanonicalEvent; value: Buffer }[]> {
    return (await readTopicToEnd(kafka, topic)).map((record) => {
      if (record.value === null) throw new Error(`a tombstone on ${topic}`);
      return {
        partition: record.partition,
        offset: record.offset,
        event: canonicalEventSchema.parse(JSON.parse(record.value.toString('utf8'))),
        value: record.value,
      };
    });
  }

  it('--publish-only puts the generated traffic on the event topics as the connectors would, closing every partition', async () => {
    const traffic = generateTraffic(demoTraffic(sizes));
    const end = closingInstant(traffic, HOUR);
    const expected = canonicalTraffic([...traffic, ...closingEvents(end, partitions)]).events;
    const stripeExpected = expected.filter((event) => event.source === 'stripe');
    const segmentExpected = expected.filter((event) => event.source === 'segment');

    const run = await runBuiltCli(publishArgs, { ...brokerEnv(), PROCESSOR_REFRESH_INTERVAL_MS: String(HOUR) }, 90_000);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `published ${String(stripeExpected.length)} Stripe events to ${topics.stripeEvents} and ` +
        `${String(segmentExpected.length)} Segment messages to ${topics.segmentEvents}`,
    );

    const stripe = await eventRecords(topics.stripeEvents);
    const segment = await eventRecords(topics.segmentEvents);
    const byId = (a: CanonicalEvent, b: CanonicalEvent) => (a.event_id < b.event_id ? -1 : 1);
    expect(stripe.map((record) => record.event).sort(byId)).toEqual([...stripeExpected].sort(byId));
    expect(segment.map((record) => record.event).sort(byId)).toEqual([...segmentExpected].sort(byId));
    // Keyed by entity like the connectors: each entity's events in one partition.
    for (const records of [stripe, segment]) {
      const partitionOf = new Map<string, number>();
      for (const { event, partition } of records) {
        expect(partitionOf.get(event.entity_key) ?? partition).toBe(partition);
        partitionOf.set(event.entity_key, partition);
      }
    }
    // The last Stripe record of every partition is its closing event, at the common instant.
    for (let partition = 0; partition < partitions; partition++) {
      const last = stripe.filter((record) => record.partition === partition).at(-1);
      expect(last?.event.occurred_at).toBe(end);
      expect(last?.event.type).toBe('customer.created');
    }
  }, 120_000);

  it('--publish-only again publishes byte-identical records, which the processor deduplicates by event id', async () => {
    const before = await eventRecords(topics.stripeEvents);
    const run = await runBuiltCli(publishArgs, { ...brokerEnv(), PROCESSOR_REFRESH_INTERVAL_MS: String(HOUR) }, 90_000);
    expect(run.code).toBe(0);
    const after = await eventRecords(topics.stripeEvents);
    expect(after).toHaveLength(2 * before.length);
    const first = new Map(before.map((record) => [record.event.event_id, record.value.toString('base64')]));
    const again = after.filter(
      (record) => !before.some((old) => old.partition === record.partition && old.offset === record.offset),
    );
    expect(again.map((record) => [record.event.event_id, record.value.toString('base64')]).sort()).toEqual(
      [...first.entries()].sort(),
    );
  }, 120_000);

  it('says to run `topics create` when the topics are missing, for --publish-only and the full demo', async () => {
    const env = { KAFKA_BROKERS: broker.bootstrapServers.join(','), KAFKA_TOPIC_PREFIX: `${prefix}missing.` };
    for (const args of [publishArgs, ['demo', '--customers', '5', '--users', '5', '--months', '1']]) {
      const run = await runBuiltCli(args, env, 90_000, 1);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${prefix}missing.stripe.events`);
      expect(run.stderr).toContain(`\`KAFKA_TOPIC_PREFIX=${prefix}missing. persona-stream topics create\``);
    }
  }, 120_000);
});

describe('persona-stream demo without Java', () => {
  // findJava takes $JAVA_HOME/bin/java whenever JAVA_HOME is set, and never looks on the PATH then.
  const noJava = join(work, 'no-java');

  it('falls back to the librdkafka mock cluster, says why in one line, and still runs', async () => {
    const run = await runBuiltCli(
      ['demo', '--customers', '8', '--users', '8', '--months', '1'],
      { JAVA_HOME: noJava },
      120_000,
    );
    expect(run.code).toBe(0);
    const said = run.stderr.split('\n').filter((line) => line.includes('embedded broker'));
    expect(said).toEqual([
      `demo: KAFKA_BROKERS is not set: embedded broker: librdkafka mock cluster (no local Apache Kafka: no Java runtime (${join(noJava, 'bin', 'java')}): install a JDK 17+ (apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME)`,
    ]);
    expect(run.stdout).toContain(`${REPORT_SECTIONS.personas} the flusher would send to Mavera: `);
    expect(run.stdout).toMatch(/demo: done in [\d.]+ s\n$/);
  }, 150_000);

  it('where the mock cannot be built either, says what each broker lacks and exits 1', async () => {
    // A temp dir without a cached build, and no compiler on the PATH.
    const emptyTmp = mkdtempSync(join(work, 'no-build-'));
    const run = await runBuiltCli(
      ['demo', '--customers', '5', '--users', '5'],
      { TMPDIR: emptyTmp, PATH: join(work, 'no-bin'), JAVA_HOME: noJava },
      60_000,
      1,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `demo: KAFKA_BROKERS is not set and no embedded broker can run here: Apache Kafka: no Java runtime (${join(noJava, 'bin', 'java')})`,
    );
    expect(run.stderr).toContain(
      'librdkafka mock cluster: cannot build the local Kafka broker: gcc is not available; install them with: apt-get install -y gcc librdkafka-dev',
    );
  }, 90_000);
});

describe("the embedded Apache Kafka's topics", () => {
  it('are the catalogue, created through the admin API: compacted changelog and tables, event topics kept', async () => {
    const broker = await startTestBroker();
    const prefix = `${broker.prefix}embedded.`;
    await createEmbeddedTopics(broker.bootstrapServers, prefix, EMBEDDED_EVENT_PARTITIONS['apache-kafka']);
    const admin = quietKafka(broker).admin();
    await admin.connect();
    try {
      const catalogue = topicCatalogue({ prefix, eventPartitions: EMBEDDED_EVENT_PARTITIONS['apache-kafka'] });
      const metadata = await admin.fetchTopicMetadata({ topics: catalogue.map((spec) => spec.name) });
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: catalogue.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.name })),
      });
      const config = (topic: string, name: string) =>
        resources
          .find((resource) => resource.resourceName === topic)
          ?.configEntries.find((entry) => entry.configName === name)?.configValue;
      for (const spec of catalogue) {
        expect(metadata.topics.find((topic) => topic.name === spec.name)?.partitions, spec.name).toHaveLength(
          spec.partitions,
        );
        expect(config(spec.name, 'cleanup.policy'), spec.name).toBe(spec.cleanupPolicy);
        for (const [name, value] of Object.entries(spec.configs))
          expect(config(spec.name, name), spec.name).toBe(value);
      }
      expect(config(`${prefix}state-changelog`, 'cleanup.policy')).toBe('compact');
    } finally {
      await admin.disconnect();
      await broker.stop();
    }
  }, 60_000);
});
