import { startConnectorsRole } from '../../roles/connectors-role.js';
import { startFlusherRole } from '../../roles/flusher-role.js';
import { startProcessorRole } from '../../roles/processor-role.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';
import { runRoles } from './role-command.js';

async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 0) throw new UsageError('all takes no arguments; it is configured by environment variables');
  return runRoles(
    io,
    'all',
    (env) => {
      if (env.kafka.brokers === undefined)
        throw new Error('KAFKA_BROKERS is not set (for a laptop try: persona-stream demo)');
    },
    // Downstream first, so the connectors accept traffic only once something consumes it; drained in reverse.
    async (runtime) => [
      await startFlusherRole(runtime),
      await startProcessorRole(runtime),
      await startConnectorsRole(runtime, { stripe: true, segment: true }),
    ],
  );
}

export const allCommand: Command = {
  name: 'all',
  usage: 'all',
  summary: 'every role in one process: both connectors on HTTP_PORT, the processor and the flusher',
  run,
};
