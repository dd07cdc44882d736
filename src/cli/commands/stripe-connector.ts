import { startConnectorsRole } from '../../roles/connectors-role.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';
import { runRoles } from './role-command.js';

async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 0)
    throw new UsageError('stripe-connector takes no arguments; it is configured by environment variables');
  return runRoles(
    io,
    'stripe-connector',
    (env) => {
      if (env.stripe.webhookSecrets.length === 0) {
        throw new Error('STRIPE_WEBHOOK_SECRET is not set: the connector verifies every webhook with it (whsec_…)');
      }
      if (env.kafka.brokers === undefined) throw new Error('KAFKA_BROKERS is not set: the connector publishes to it');
    },
    async (runtime) => [await startConnectorsRole(runtime, { stripe: true, segment: false })],
  );
}

export const stripeConnectorCommand: Command = {
  name: 'stripe-connector',
  usage: 'stripe-connector',
  summary:
    'HTTP server: POST /webhooks/stripe (Stripe-Signature verified) → stripe.events, 200 only after the broker acked',
  run,
};
