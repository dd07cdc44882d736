import { parseArgs } from 'node:util';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { ensureTopics, isProblem, type TopicOutcome } from '../../adapters/kafka/topic-admin.js';
import { DEFAULT_EVENT_PARTITIONS, topicCatalogue } from '../../adapters/kafka/topic-catalogue.js';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log/logger.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';

function describe(outcome: TopicOutcome): string {
  switch (outcome.status) {
    case 'created':
      return 'created';
    case 'ok':
      return 'ok';
    case 'partitions_mismatch':
      return `MISMATCH: ${String(outcome.actual)} partitions, expected ${String(outcome.expected)} (not changed: repartitioning moves keys)`;
    case 'cleanup_policy_mismatch':
      return `MISMATCH: cleanup.policy=${outcome.actual}, expected ${outcome.expected}`;
    case 'cleanup_policy_unverified':
      return `exists, partitions ok; cleanup policy not verified: ${outcome.reason}`;
    case 'not_created':
      return `NOT CREATED: ${outcome.reason}`;
  }
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { partitions: { type: 'string' } },
  });
  if (positionals[0] !== 'create' || positionals.length !== 1) throw new UsageError('the subcommand is: topics create');
  const partitions = values.partitions === undefined ? DEFAULT_EVENT_PARTITIONS : Number(values.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) throw new UsageError('--partitions expects a whole number ≥ 1');

  const env = loadEnv(io.env);
  const logger = createLogger({ level: env.logLevel, name: 'topics', destination: process.stderr });
  const catalogue = topicCatalogue({ prefix: env.kafka.topicPrefix, eventPartitions: partitions });
  const admin = createKafka(env.kafka, logger).admin();
  await admin.connect();
  let outcomes: TopicOutcome[];
  try {
    outcomes = await ensureTopics(admin, catalogue);
  } finally {
    await admin.disconnect();
  }
  const width = Math.max(...catalogue.map((spec) => spec.name.length));
  for (const spec of catalogue) {
    const outcome = outcomes.find((candidate) => candidate.topic === spec.name);
    const settings = `${String(spec.partitions)} partitions, ${spec.cleanupPolicy}`;
    io.stdout(
      `${spec.name.padEnd(width)}  ${settings.padEnd(24)}  ${outcome === undefined ? '?' : describe(outcome)}\n`,
    );
  }
  const problems = outcomes.filter(isProblem).length;
  if (problems > 0) io.stderr(`topics create: ${String(problems)} topic(s) need attention (see above)\n`);
  return problems === 0 ? 0 : 1;
}

export const topicsCommand: Command = {
  name: 'topics',
  usage: 'topics create [--partitions N]',
  summary: 'create missing topics and verify existing ones (partitions, cleanup policy) on KAFKA_BROKERS',
  run,
};
