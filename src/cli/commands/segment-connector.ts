import type { EnvConfig } from '../../config/env.js';
import { startConnectorsRole } from '../../roles/connectors-role.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';
import { runRoles } from './role-command.js';

/** Refuses a configuration under which the connector could accept nothing, before anything is started. */
function checkSegmentConnectorEnv(env: EnvConfig): void {
  const { sharedSecrets, writeKeys } = env.segment;
  if (sharedSecrets.length === 0 && writeKeys.length === 0) {
    throw new Error(
      'neither SEGMENT_SHARED_SECRET nor SEGMENT_WRITE_KEYS is set: set SEGMENT_SHARED_SECRET to accept a Segment ' +
        'Webhooks destination (POST /webhooks/segment) and/or SEGMENT_WRITE_KEYS (comma-separated) to accept ' +
        'Segment libraries on the Tracking API endpoints (/v1/track, /v1/batch, …)',
    );
  }
  if (env.kafka.brokers === undefined) throw new Error('KAFKA_BROKERS is not set: the connector publishes to it');
}

/**
 * Serves the Segment routes on HTTP_PORT (and /healthz /readyz /metrics on METRICS_PORT), publishing to
 * segment.events, until SIGTERM/SIGINT; then stops accepting connections, answers the open requests (each after its
 * broker ack) and exits 0.
 */
async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 0) {
    throw new UsageError('segment-connector takes no arguments; it is configured by environment variables');
  }
  return runRoles(io, 'segment-connector', checkSegmentConnectorEnv, async (runtime) => [
    await startConnectorsRole(runtime, { stripe: false, segment: true }),
  ]);
}

export const segmentConnectorCommand: Command = {
  name: 'segment-connector',
  usage: 'segment-connector',
  summary:
    'HTTP server: POST /webhooks/segment (X-Signature verified) and the Tracking API (/v1/track, /v1/batch, … ' +
    'with a write key) → segment.events, 200 only after the broker acked',
  run,
};
