import type { JsonValue } from '../segment/model.js';

/**
 * Identify traits repeat across users (plan names, industries, tiers) and every parsed message brings its own copy
 * of the string: kept per user, a ten-character value costs 32 bytes each time. Short strings are shared instead.
 * Content-addressed (an equal string in, the same string out), so nothing computed from a state depends on it; the
 * pool stops growing at its limit, past which values are simply not shared.
 */
const POOL_LIMIT = 50_000;
const MAX_SHARED_LENGTH = 40;
const pool = new Map<string, string>();

export function sharedValue(value: JsonValue): JsonValue {
  if (typeof value !== 'string' || value.length > MAX_SHARED_LENGTH) return value;
  const pooled = pool.get(value);
  if (pooled !== undefined) return pooled;
  if (pool.size < POOL_LIMIT) pool.set(value, value);
  return value;
}
