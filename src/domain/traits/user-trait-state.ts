import type { JsonValue } from '../segment/model.js';
import type { EpochMs } from '../time.js';
import type { ValueCounts } from './value-counts.js';

/** A first/last value, or a most_frequent/unique value-count table; null while nothing was seen. */
export type AggregateRef = JsonValue | ValueCounts;

/**
 * A day bucket in `UserTraitState.window`: [day index, counts], then its messageId hashes. counts = activity events
 * × ACTIVITY_UNIT + number of hashes, two counts in one word (exact: both stay below their maximum, see
 * day-buckets.ts), which saves a word per bucket.
 */
export const BUCKET_HEADER = 2;
export const BUCKET_DAY = 0;
export const BUCKET_COUNTS = 1;
export const ACTIVITY_UNIT = 2 ** 26;

/** horizonDay before the first advanceTraitState: nothing folded yet. */
export const NO_HORIZON = -1_000_000_000;

/**
 * Everything the traits engine keeps for one user. Owned and mutated in place by applySegmentMessage and
 * advanceTraitState (the reducer owns its state); evaluateTraits only reads it. Compact on purpose: flat number
 * arrays, no per-event objects, slot arrays allocated only once something needs them.
 *
 * Day buckets (one per UTC day with at least one message, ascending) are the unit of windows, dedupe memory and
 * expiry. They sit end to end in `window`, each [dayIndex, counts, messageId hashes ascending] (BUCKET_HEADER): one
 * array read for the common message (most land in a bucket already there, or open the newest) instead of two.
 * `window` is updated in place and has a few words of spare capacity past `windowLength`, so applying a message
 * rarely allocates (a copy per message made the young generation collect, and promote, an array per event).
 * `windowedNum`/`windowedRef` hold the partial aggregates of windowed definitions,
 * `compiled.windowedNumInit.length` / `compiled.windowedRefWidth` per bucket, in bucket order.
 * All-time definitions aggregate straight into `allTimeNum`/`allTimeRef`, so dropping an expired bucket
 * ("folding") loses nothing they need.
 */
export interface UserTraitState {
  /** Event time of the earliest / newest message of any type; ±Infinity while none. */
  firstSeenAt: EpochMs;
  lastSeenAt: EpochMs;
  /** Event time of the newest track/page/screen call (the builtins' recency); −Infinity while none. */
  lastActivityAt: EpochMs;
  /** Buckets before this UTC day were folded: messages older than it are not deduplicated nor windowed. */
  horizonDay: number;
  /** The day buckets, end to end; words from `windowLength` on are spare capacity. */
  window: number[];
  windowLength: number;
  windowedNum: number[] | null;
  windowedRef: AggregateRef[] | null;
  allTimeNum: number[] | null;
  allTimeRef: AggregateRef[] | null;
  /** Newest value (by event time) of each identify path in `compiled.identifyPaths`; undefined = never sent. */
  identifyValues: (JsonValue | undefined)[] | null;
  /** Event time of each identifyValues entry; −Infinity = never sent. */
  identifyAt: number[] | null;
}

/** Shared by every state without buckets: never written to, since the first bucket reallocates (it has no capacity). */
const NO_WORDS: number[] = [];

export function createUserTraitState(): UserTraitState {
  return {
    firstSeenAt: Infinity,
    lastSeenAt: -Infinity,
    lastActivityAt: -Infinity,
    horizonDay: NO_HORIZON,
    window: NO_WORDS,
    windowLength: 0,
    windowedNum: null,
    windowedRef: null,
    allTimeNum: null,
    allTimeRef: null,
    identifyValues: null,
    identifyAt: null,
  };
}

/** Slot arrays grow to the highest slot set, at exact length (most users only send the first few paths). */
export function setIdentifySlot(state: UserTraitState, slot: number, value: JsonValue, at: number): void {
  let values = state.identifyValues ?? [];
  let times = state.identifyAt ?? [];
  if (slot >= values.length) {
    const grownValues = values.slice();
    const grownTimes = times.slice();
    while (grownValues.length <= slot) {
      grownValues.push(undefined);
      grownTimes.push(-Infinity);
    }
    values = grownValues.slice();
    times = grownTimes.slice();
    state.identifyValues = values;
    state.identifyAt = times;
  }
  values[slot] = value;
  times[slot] = at;
}
