import type { CompiledTraits } from './compiled-traits.js';
import { insertAt } from './compact-array.js';
import { ACTIVITY_UNIT, BUCKET_COUNTS, BUCKET_DAY, BUCKET_HEADER, type UserTraitState } from './user-trait-state.js';

/**
 * Day buckets in `UserTraitState.window` (see there for the layout). Buckets are named by the offset of their first
 * word; their ordinal (0 = oldest) indexes the windowed partials.
 */

/**
 * Spare words a grown window gets: room for a new day's bucket and a few of its ids without another copy. Every copy
 * is a new array that outlives the next scavenge (the state keeps it) and is promoted; at 4 words a user's window was
 * copied every message or two, and 10 applied 3-4% more messages a second (interleaved A/B, GC excluded) for ~40
 * bytes more per user.
 */
const WINDOW_SLACK_WORDS = 10;

/**
 * Bounds that keep a bucket's counts word exact (below 2⁵³): activity saturates at MAX_ACTIVITY events a day, and past
 * MAX_BUCKET_IDS messages a day (~67M, for one user) further messageIds are not remembered, so not deduplicated.
 */
const MAX_ACTIVITY = 2 ** 27 - 1;
export const MAX_BUCKET_IDS = ACTIVITY_UNIT - 1;

/** A bucket's counts word; activity beyond its maximum is kept at the maximum. `ids` ≤ MAX_BUCKET_IDS (checked by callers). */
export function bucketCounts(activity: number, ids: number): number {
  return Math.min(activity, MAX_ACTIVITY) * ACTIVITY_UNIT + ids;
}

export function bucketIdCount(window: readonly number[], at: number): number {
  return (window[at + BUCKET_COUNTS] as number) % ACTIVITY_UNIT;
}

export function bucketActivity(window: readonly number[], at: number): number {
  return Math.floor((window[at + BUCKET_COUNTS] as number) / ACTIVITY_UNIT);
}

/** Counts one track/page/screen call in the bucket at `bucket`. */
export function countActivity(state: UserTraitState, bucket: number): void {
  const window = state.window;
  if (bucketActivity(window, bucket) < MAX_ACTIVITY) {
    window[bucket + BUCKET_COUNTS] = (window[bucket + BUCKET_COUNTS] as number) + ACTIVITY_UNIT;
  }
}

/** Offset of the bucket after the one at `at`. */
export function nextBucket(window: readonly number[], at: number): number {
  return at + BUCKET_HEADER + bucketIdCount(window, at);
}

/** Offset of the bucket holding `day`, or −(offset where it belongs) − 1 when there is none. */
export function findBucket(state: UserTraitState, day: number): number {
  const window = state.window;
  const end = state.windowLength;
  let at = 0;
  while (at < end) {
    const candidate = window[at + BUCKET_DAY] as number;
    if (candidate === day) return at;
    if (candidate > day) break;
    at = nextBucket(window, at);
  }
  return -at - 1;
}

export function bucketCount(state: UserTraitState): number {
  return bucketOrdinal(state, state.windowLength);
}

/** Ordinal of the bucket at offset `bucket` (or of one inserted there). */
export function bucketOrdinal(state: UserTraitState, bucket: number): number {
  let ordinal = 0;
  for (let at = 0; at < bucket; at = nextBucket(state.window, at)) ordinal++;
  return ordinal;
}

/** Inserts an empty bucket for `day` at `offset` (from findBucket), with fresh windowed partials. */
export function createBucket(state: UserTraitState, offset: number, day: number, compiled: CompiledTraits): number {
  const numWidth = compiled.windowedNumInit.length;
  const refWidth = compiled.windowedRefWidth;
  if (numWidth > 0 || refWidth > 0) {
    const ordinal = bucketOrdinal(state, offset);
    if (numWidth > 0)
      state.windowedNum = insertAt(state.windowedNum ?? [], ordinal * numWidth, compiled.windowedNumInit);
    if (refWidth > 0)
      state.windowedRef = insertAt(state.windowedRef ?? [], ordinal * refWidth, compiled.windowedRefInit);
  }
  const window = openWords(state, offset, BUCKET_HEADER);
  window[offset + BUCKET_DAY] = day;
  window[offset + BUCKET_COUNTS] = 0;
  return offset;
}

/** Index in `window` of `hash` among the bucket's ids, or −(insertion index) − 1. */
export function searchBucketIds(state: UserTraitState, bucket: number, hash: number): number {
  const window = state.window;
  let low = bucket + BUCKET_HEADER;
  let high = low + bucketIdCount(window, bucket);
  while (low < high) {
    const mid = (low + high) >>> 1;
    const candidate = window[mid] as number;
    if (candidate === hash) return mid;
    if (candidate < hash) low = mid + 1;
    else high = mid;
  }
  return -low - 1;
}

export function bucketHasId(state: UserTraitState, day: number, hash: number): boolean {
  const bucket = findBucket(state, day);
  return bucket >= 0 && searchBucketIds(state, bucket, hash) >= 0;
}

/** Records `hash` in the bucket; `insertion` is the negative result of searchBucketIds. */
export function addBucketId(state: UserTraitState, bucket: number, hash: number, insertion: number): void {
  if (bucketIdCount(state.window, bucket) >= MAX_BUCKET_IDS) return;
  const at = -insertion - 1;
  const window = openWords(state, at, 1);
  window[at] = hash;
  window[bucket + BUCKET_COUNTS] = (window[bucket + BUCKET_COUNTS] as number) + 1;
}

/** Drops the buckets before offset `end` (whole buckets), shifting the rest down in place. */
export function dropBucketsBefore(state: UserTraitState, end: number): void {
  if (end === 0) return;
  const window = state.window;
  const length = state.windowLength - end;
  for (let i = 0; i < length; i++) window[i] = window[i + end] as number;
  state.windowLength = length;
  // Spare capacity stays bounded: a window that lost more than a new day's worth gives the rest back.
  if (window.length > length + 2 * WINDOW_SLACK_WORDS) state.window = window.slice(0, length + WINDOW_SLACK_WORDS);
}

/** The buckets as [day, activity, ids] triples, oldest first. */
export function bucketsOf(state: UserTraitState): [number, number, number[]][] {
  const buckets: [number, number, number[]][] = [];
  const window = state.window;
  for (let at = 0; at < state.windowLength; at = nextBucket(window, at)) {
    const ids = window.slice(at + BUCKET_HEADER, nextBucket(window, at));
    buckets.push([window[at + BUCKET_DAY] as number, bucketActivity(window, at), ids]);
  }
  return buckets;
}

/** Makes room for `count` words at `at`, shifting the words after it; returns the (possibly new) window. */
function openWords(state: UserTraitState, at: number, count: number): number[] {
  const length = state.windowLength;
  let window = state.window;
  if (length + count > window.length) {
    const grown = new Array<number>(length + count + WINDOW_SLACK_WORDS);
    for (let i = 0; i < at; i++) grown[i] = window[i] as number;
    for (let i = at; i < length; i++) grown[i + count] = window[i] as number;
    for (let i = length + count; i < grown.length; i++) grown[i] = 0;
    window = grown;
    state.window = grown;
  } else {
    for (let i = length - 1; i >= at; i--) window[i + count] = window[i] as number;
  }
  state.windowLength = length + count;
  return window;
}
