import { createHash } from 'node:crypto';
import type { JsonObject } from '../../domain/segment/model.js';
import { canonicalJson } from '../../domain/traits/canonical-json.js';
import { formatIsoTimestamp } from '../../sources/segment/index.js';

/** `context.library.name` of every backfilled message: says where a profile's traits came from. */
export const BACKFILL_LIBRARY_NAME = 'persona-stream-backfill';

/**
 * `psb-` + 40 hex of SHA-256 over the user id and the canonical JSON of the traits: the same traits give the same
 * messageId (a rerun is a duplicate the processor drops), changed traits a new one.
 */
export function backfillMessageId(userId: string, traits: JsonObject): string {
  const digest = createHash('sha256')
    .update(`${userId}\n${canonicalJson(traits)}`)
    .digest('hex');
  return `psb-${digest.slice(0, 40)}`;
}

/**
 * A user's Profile API traits as the identify call that would have set them. `timestamp` is the newest
 * `updated_at` the API gave for the traits (so a newer live identify still wins), else `now`.
 */
export function backfillIdentifyMessage(
  userId: string,
  traits: JsonObject,
  updatedAt: number | null,
  now: number,
): JsonObject {
  return {
    type: 'identify',
    userId,
    messageId: backfillMessageId(userId, traits),
    timestamp: formatIsoTimestamp(updatedAt ?? now),
    traits,
    context: { library: { name: BACKFILL_LIBRARY_NAME } },
    integrations: {},
  };
}
