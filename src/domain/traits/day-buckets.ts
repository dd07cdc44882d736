import type { CompiledTraits } from './compiled-traits.js';
import { insertAt, insertOne } from './compact-array.js';
import { BUCKET_DAY, BUCKET_ID_COUNT, BUCKET_STRIDE, type UserTraitState } from './user-trait-state.js';

/** Bucket number holding `day`, or −(insertion point) − 1 when there is none. */
export function findBucket(days: readonly number[], day: number): number {
  const count = days.length / BUCKET_STRIDE;
  // Most messages belong to the newest day.
  if (count > 0 && days[(count - 1) * BUCKET_STRIDE + BUCKET_DAY] === day) return count - 1;
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const candidate = days[mid * BUCKET_STRIDE + BUCKET_DAY] as number;
    if (candidate === day) return mid;
    if (candidate < day) low = mid + 1;
    else high = mid;
  }
  return -low - 1;
}

/** Inserts an empty bucket for `day` at bucket number `position` (from findBucket), with fresh windowed partials. */
export function createBucket(state: UserTraitState, position: number, day: number, compiled: CompiledTraits): number {
  state.days = insertAt(state.days, position * BUCKET_STRIDE, [day, 0, 0]);
  const numWidth = compiled.windowedNumInit.length;
  if (numWidth > 0)
    state.windowedNum = insertAt(state.windowedNum ?? [], position * numWidth, compiled.windowedNumInit);
  const refWidth = compiled.windowedRefWidth;
  if (refWidth > 0) {
    state.windowedRef = insertAt(state.windowedRef ?? [], position * refWidth, compiled.windowedRefInit);
  }
  return position;
}

/** Index in `ids` where the bucket's hashes start. */
export function bucketIdStart(state: UserTraitState, bucket: number): number {
  const days = state.days;
  const count = days.length / BUCKET_STRIDE;
  if (bucket === count - 1) return state.ids.length - (days[bucket * BUCKET_STRIDE + BUCKET_ID_COUNT] as number);
  let start = 0;
  for (let b = 0; b < bucket; b++) start += days[b * BUCKET_STRIDE + BUCKET_ID_COUNT] as number;
  return start;
}

/** Index of `hash` among the bucket's ids, or −(insertion index) − 1. */
export function searchBucketIds(state: UserTraitState, bucket: number, hash: number): number {
  const ids = state.ids;
  let low = bucketIdStart(state, bucket);
  let high = low + (state.days[bucket * BUCKET_STRIDE + BUCKET_ID_COUNT] as number);
  while (low < high) {
    const mid = (low + high) >>> 1;
    const candidate = ids[mid] as number;
    if (candidate === hash) return mid;
    if (candidate < hash) low = mid + 1;
    else high = mid;
  }
  return -low - 1;
}

export function bucketHasId(state: UserTraitState, day: number, hash: number): boolean {
  const bucket = findBucket(state.days, day);
  return bucket >= 0 && searchBucketIds(state, bucket, hash) >= 0;
}

/** Records `hash` in the bucket; `insertion` is the negative result of searchBucketIds. */
export function addBucketId(state: UserTraitState, bucket: number, hash: number, insertion: number): void {
  state.ids = insertOne(state.ids, -insertion - 1, hash);
  state.days[bucket * BUCKET_STRIDE + BUCKET_ID_COUNT] =
    (state.days[bucket * BUCKET_STRIDE + BUCKET_ID_COUNT] as number) + 1;
}
