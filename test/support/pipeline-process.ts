import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { findPackageRoot } from '../../src/package-root.js';
import type { TestBroker } from './test-broker.js';
import { localTopics } from '../../src/adapters/kafka/topic-catalogue.js';
import { topicNames, type TopicNames } from '../../src/roles/runtime.js';

export const CLI = join(findPackageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Children started so far: numbers their log files in start order. */
let started = 0;

/**
 * Starts `persona-stream <command>` as a real process; stderr is passed through for failing runs' diagnosis. With
 * PERSONA_STREAM_TEST_LOG_DIR set, each child logs at debug level (kafkajs included) to its own file there,
 * `<n>-<command>-<pid>.log`: how a flaky multi-process test is taken apart.
 */
export function startCli(command: readonly string[], env: Record<string, string>): ChildProcess {
  const logDir = process.env['PERSONA_STREAM_TEST_LOG_DIR'];
  const child = spawn(process.execPath, [CLI, ...command], {
    env: { ...process.env, LOG_LEVEL: logDir === undefined ? 'warn' : 'debug', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (logDir !== undefined) {
    started += 1;
    const file = createWriteStream(join(logDir, `${String(started)}-${command.join('-')}-${String(child.pid)}.log`));
    child.stdout.pipe(file);
  }
  return child;
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  // A child already ended by a signal has exitCode null and signalCode set: its 'exit' has been and gone.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
}

/** Every topic of the catalogue under `prefix`, created on the test broker. */
export async function createPipelineTopics(
  broker: TestBroker,
  prefix: string,
  partitions: number,
): Promise<TopicNames> {
  await broker.createTopics(localTopics(prefix, partitions));
  return topicNames(prefix, 0);
}

/** Input records the group has committed, and how many there are, over the given topics. */
export async function groupProgress(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
): Promise<{ committed: number; total: number }> {
  const admin = kafka.admin();
  await admin.connect();
  let committed = 0;
  let total = 0;
  try {
    for (const topic of topics) {
      const high = await admin.fetchTopicOffsets(topic);
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const partition of high) {
        const offset = offsets?.partitions.find((entry) => entry.partition === partition.partition)?.offset;
        total += Number(partition.high);
        committed += offset === undefined || offset === '-1' ? 0 : Number(offset);
      }
    }
    return { committed, total };
  } finally {
    await admin.disconnect();
  }
}

export { keysForEveryPartition } from '../../src/adapters/kafka/partition-keys.js';

export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function quietKafka(broker: TestBroker): Kafka {
  return new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
}
