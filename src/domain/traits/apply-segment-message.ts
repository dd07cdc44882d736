import type { JsonValue, SegmentMessage } from '../segment/model.js';
import { DAY_MS, dayIndex } from '../time.js';
import { canonicalJson } from './canonical-json.js';
import type { CompiledAggregate, CompiledTraits, EventDispatch } from './compiled-traits.js';
import {
  addBucketId,
  bucketHasId,
  bucketOrdinal,
  countActivity,
  createBucket,
  findBucket,
  searchBucketIds,
} from './day-buckets.js';
import { fnv1a32 as hashMessageId } from '../hash.js';
import { numericValue, toScaled } from './numeric-value.js';
import { readPropertyPath } from './property-path.js';
import { sharedValue } from './shared-values.js';
import { addValueCount, countedValueKey, type ValueCounts } from './value-counts.js';
import { setIdentifySlot, type AggregateRef, type UserTraitState } from './user-trait-state.js';

/**
 * Retries of one call can get timestamps a few ms apart (each retry re-derives it from its own sentAt/receivedAt);
 * within this distance of midnight the neighbouring day's bucket is checked for the messageId too.
 */
const MIDNIGHT_TOLERANCE_MS = 3_600_000;

/** The all-time refs of every user when no definition has any (the defaults): shared, and frozen since never written. */
const NO_REFS = Object.freeze([]) as unknown as AggregateRef[];

/**
 * Applies one message to the user's state in place. Returns false when it changed nothing, in particular for a
 * duplicate (same messageId on the same UTC day, while that day is within the horizon).
 *
 * Order-independent by construction: counts, sums (exact integer millionths), min/max and value counts commute;
 * first/last and identify traits keep the value with the smallest/greatest (event time, messageId hash), never
 * the latest to arrive. A message older than the horizon (see advanceTraitState) is applied to all-time traits,
 * identify traits and first/last-seen without deduplication and is not placed in any window.
 */
export function applySegmentMessage(state: UserTraitState, message: SegmentMessage, compiled: CompiledTraits): boolean {
  const at = message.timestamp;
  const day = dayIndex(at);
  const hash = hashMessageId(message.messageId);
  let bucket = -1;
  let changed = false;
  if (day >= state.horizonDay) {
    const found = findBucket(state, day);
    let position = found >= 0 ? searchBucketIds(state, found, hash) : -1;
    if (position >= 0 || seenNearMidnight(state, at, day, hash)) return false;
    if (found >= 0) {
      bucket = found;
    } else {
      bucket = createBucket(state, -found - 1, day, compiled);
      position = searchBucketIds(state, bucket, hash);
    }
    addBucketId(state, bucket, hash, position);
    changed = true;
  }
  if (at < state.firstSeenAt) {
    state.firstSeenAt = at;
    changed = true;
  }
  if (at > state.lastSeenAt) {
    state.lastSeenAt = at;
    changed = true;
  }
  switch (message.type) {
    case 'identify':
      return applyIdentify(state, message, compiled) || changed;
    case 'track':
    case 'page':
    case 'screen':
      if (at > state.lastActivityAt) {
        state.lastActivityAt = at;
        changed = true;
      }
      if (bucket >= 0) countActivity(state, bucket);
      return applyAggregates(state, message, compiled, compiled.dispatch[message.type], bucket, hash) || changed;
    case 'group':
    case 'alias':
      return changed;
  }
}

function seenNearMidnight(state: UserTraitState, at: number, day: number, hash: number): boolean {
  const intoDay = at - day * DAY_MS;
  if (intoDay < MIDNIGHT_TOLERANCE_MS) return bucketHasId(state, day - 1, hash);
  if (intoDay >= DAY_MS - MIDNIGHT_TOLERANCE_MS) return bucketHasId(state, day + 1, hash);
  return false;
}

function applyAggregates(
  state: UserTraitState,
  message: SegmentMessage,
  compiled: CompiledTraits,
  dispatch: EventDispatch,
  bucket: number,
  hash: number,
): boolean {
  let changed = false;
  const named = message.event === null ? undefined : dispatch.byName.get(message.event);
  if (named === undefined && dispatch.any.length === 0) return false;
  // Windowed partials are indexed by bucket ordinal; only states with windowed definitions need it.
  const ordinal =
    bucket >= 0 && (compiled.windowedNumInit.length > 0 || compiled.windowedRefWidth > 0)
      ? bucketOrdinal(state, bucket)
      : -1;
  if (named !== undefined) {
    for (const aggregate of named)
      changed = applyAggregate(state, message, compiled, aggregate, ordinal, hash) || changed;
  }
  for (const aggregate of dispatch.any)
    changed = applyAggregate(state, message, compiled, aggregate, ordinal, hash) || changed;
  return changed;
}

function applyAggregate(
  state: UserTraitState,
  message: SegmentMessage,
  compiled: CompiledTraits,
  aggregate: CompiledAggregate,
  /** Ordinal of the message's bucket, −1 when it has none (older than the horizon) or no windowed definitions. */
  ordinal: number,
  hash: number,
): boolean {
  if (aggregate.where !== null && !aggregate.where(message.properties)) return false;
  let num: number[];
  let ref: AggregateRef[];
  let numAt: number;
  let refAt: number;
  if (aggregate.windowDays > 0) {
    if (ordinal < 0) return false;
    num = state.windowedNum ?? [];
    ref = state.windowedRef ?? [];
    numAt = ordinal * compiled.windowedNumInit.length + aggregate.numOffset;
    refAt = ordinal * compiled.windowedRefWidth + aggregate.refOffset;
  } else {
    num = state.allTimeNum ??= compiled.allTimeNumInit.slice();
    ref = state.allTimeRef ??=
      compiled.allTimeRefWidth === 0 ? NO_REFS : new Array<AggregateRef>(compiled.allTimeRefWidth).fill(null);
    numAt = aggregate.numOffset;
    refAt = aggregate.refOffset;
  }
  const property = aggregate.property === null ? undefined : readPropertyPath(message.properties, aggregate.property);
  switch (aggregate.kind) {
    case 'count':
      num[numAt] = (num[numAt] as number) + 1;
      return true;
    case 'sum':
    case 'avg': {
      const value = numericValue(property);
      if (value === null) return false;
      num[numAt] = (num[numAt] as number) + toScaled(value);
      if (aggregate.kind === 'avg') num[numAt + 1] = (num[numAt + 1] as number) + 1;
      return true;
    }
    case 'min':
    case 'max': {
      const value = numericValue(property);
      if (value === null) return false;
      const current = num[numAt] as number;
      if (aggregate.kind === 'min' ? value >= current : value <= current) return false;
      num[numAt] = value;
      return true;
    }
    case 'first':
    case 'last': {
      const value: JsonValue | undefined = aggregate.property === null ? message.timestamp : property;
      if (value === undefined || value === null) return false;
      const at = message.timestamp;
      const currentAt = num[numAt] as number;
      const currentHash = num[numAt + 1] as number;
      const wins =
        aggregate.kind === 'first'
          ? at < currentAt || (at === currentAt && hash < currentHash)
          : at > currentAt || (at === currentAt && hash > currentHash);
      if (!wins) return false;
      num[numAt] = at;
      num[numAt + 1] = hash;
      ref[refAt] = value;
      return true;
    }
    case 'most_frequent':
    case 'unique_list':
    case 'unique_count': {
      const key = countedValueKey(property);
      if (key === null) return false;
      ref[refAt] = addValueCount(ref[refAt] as ValueCounts | null, key, 1);
      return true;
    }
  }
}

function applyIdentify(state: UserTraitState, message: SegmentMessage, compiled: CompiledTraits): boolean {
  const paths = compiled.identifyPaths;
  const at = message.timestamp;
  let changed = false;
  for (let slot = 0; slot < paths.length; slot++) {
    const value = readPropertyPath(message.traits, paths[slot] as (typeof paths)[number]);
    if (value === undefined) continue;
    const values = state.identifyValues;
    const times = state.identifyAt;
    const currentAt = times?.[slot] ?? -Infinity;
    // Equal event times: the canonically greater value wins, so arrival order never decides.
    if (at < currentAt || (at === currentAt && canonicalJson(value) <= canonicalJson(values?.[slot]))) continue;
    setIdentifySlot(state, slot, sharedValue(value), at);
    changed = true;
  }
  return changed;
}
