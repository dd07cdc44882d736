import { startFlusherRole } from '../../roles/flusher-role.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';
import { runRoles } from './role-command.js';

async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 0) throw new UsageError('flusher takes no arguments; it is configured by environment variables');
  return runRoles(
    io,
    'flusher',
    (env) => {
      if (env.kafka.brokers === undefined) throw new Error('KAFKA_BROKERS is not set: the flusher needs a cluster');
    },
    async (runtime) => [await startFlusherRole(runtime)],
  );
}

export const flusherCommand: Command = {
  name: 'flusher',
  usage: 'flusher',
  summary:
    'one active replica (lock topic): profiles → segment summaries → Mavera creates/PATCHes of material changes only',
  run,
};
