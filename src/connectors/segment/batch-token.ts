import type { SecretSet } from '../secret-set.js';

/**
 * The header that carries SEGMENT_WEBHOOK_BATCH_TOKEN, set as a custom header on the Webhooks destination. A header
 * rather than a secret path: URLs end up in access logs (ingress, proxies, ours), headers do not.
 */
export const BATCH_TOKEN_HEADER = 'x-persona-stream-token';

/**
 * What the batch token says of a delivery: `off` (no token configured, or none sent: batches are refused), `granted`
 * (a configured token: the sender may deliver batches) or `refused` (a token that is not one of ours).
 */
export type BatchGate = 'off' | 'granted' | 'refused';

export function batchGate(header: string | undefined, tokens: SecretSet): BatchGate {
  if (tokens.size === 0 || header === undefined || header === '') return 'off';
  return tokens.has(header) ? 'granted' : 'refused';
}

/** What the refusal of a batch says, in the answer and in the log: how to enable batches. */
export const ENABLE_BATCHES_HINT =
  'to accept batched deliveries, set SEGMENT_WEBHOOK_BATCH_TOKEN and send the same value in the ' +
  'X-Persona-Stream-Token header of the Webhooks destination (README: Segment webhook destination)';
