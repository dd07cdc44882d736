import { startProcessorRole } from '../../roles/processor-role.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';
import { runRoles } from './role-command.js';

async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 0) throw new UsageError('processor takes no arguments; it is configured by environment variables');
  return runRoles(
    io,
    'processor',
    (env) => {
      if (env.kafka.brokers === undefined) throw new Error('KAFKA_BROKERS is not set: the processor needs a cluster');
    },
    async (runtime) => [await startProcessorRole(runtime)],
  );
}

export const processorCommand: Command = {
  name: 'processor',
  usage: 'processor',
  summary:
    'consumer group over stripe.events + segment.events: per-entity state (LMDB + compacted changelog) → profiles',
  run,
};
