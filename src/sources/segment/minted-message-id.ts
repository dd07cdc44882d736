import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../../domain/segment/model.js';
import { canonicalJson } from '../../domain/traits/canonical-json.js';

/** Fields that change between retries of the same call, so they must not change the minted id. */
const VOLATILE_FIELDS = new Set(['messageId', 'sentAt', 'receivedAt', 'writeKey']);

/**
 * A deterministic messageId for a message that arrived without one, so a retried or replayed copy dedupes:
 * `psm-` + 40 hex chars of SHA-256 over the canonical JSON of the message (batch context already merged) without
 * its volatile fields. A message carrying neither `timestamp` nor `originalTimestamp` also hashes its `receivedAt`:
 * otherwise two genuinely separate identical calls (e.g. a heartbeat) would collapse into one.
 */
export function mintMessageId(message: JsonObject, receivedAtIso: string): string {
  const stable: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(message)) {
    if (!VOLATILE_FIELDS.has(key)) stable[key] = value;
  }
  if (message['timestamp'] == null && message['originalTimestamp'] == null) stable['receivedAt'] = receivedAtIso;
  return `psm-${createHash('sha256').update(canonicalJson(stable)).digest('hex').slice(0, 40)}`;
}
