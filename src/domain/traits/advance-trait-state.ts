import { dayIndex, type EpochMs } from '../time.js';
import type { CompiledTraits } from './compiled-traits.js';
import { removeRange } from './compact-array.js';
import { dropBucketsBefore, nextBucket } from './day-buckets.js';
import { BUCKET_DAY, type UserTraitState } from './user-trait-state.js';

/**
 * Moves the horizon to `watermark`: day buckets older than the longest window plus `latenessDays` (counted in UTC
 * days back from the watermark's day) are dropped with their messageId hashes and windowed partials. All-time
 * traits already hold those buckets' contributions, so nothing they report changes; windows evaluated at or after
 * the watermark never reach those days. This is what bounds per-user memory.
 *
 * Consequence, by design: a message older than the horizon that arrives afterwards is not deduplicated (a replayed
 * copy is counted again by all-time count/sum/avg/most_frequent) and is not placed in any window. Driven only by
 * explicit calls, so replaying the same messages and watermarks in the same order gives the same state.
 * Returns whether the horizon moved.
 */
export function advanceTraitState(
  state: UserTraitState,
  watermark: EpochMs,
  compiled: CompiledTraits,
  latenessDays: number,
): boolean {
  const horizon = horizonDayAt(watermark, compiled, latenessDays);
  if (horizon <= state.horizonDay) return false;
  state.horizonDay = horizon;

  const window = state.window;
  let expired = 0;
  let end = 0;
  while (end < state.windowLength && (window[end + BUCKET_DAY] as number) < horizon) {
    end = nextBucket(window, end);
    expired++;
  }
  if (expired === 0) return true;
  dropBucketsBefore(state, end);
  if (state.windowedNum !== null) {
    state.windowedNum = removeRange(state.windowedNum, 0, expired * compiled.windowedNumInit.length);
  }
  if (state.windowedRef !== null) {
    state.windowedRef = removeRange(state.windowedRef, 0, expired * compiled.windowedRefWidth);
  }
  return true;
}

/** The first day a watermark keeps: the longest window plus `latenessDays`, counted back from the watermark's day. */
export function horizonDayAt(watermark: EpochMs, compiled: CompiledTraits, latenessDays: number): number {
  const keptDays = Math.max(compiled.longestWindowDays, 1) + Math.max(0, Math.floor(latenessDays));
  return dayIndex(watermark) - keptDays + 1;
}

/**
 * Moves a horizon that a watermark from the future carried past `watermark` back to the one `watermark` implies
 * (repair-watermark). The days in between hold no bucket: windows undercount them until those days leave every
 * window, but new messages are placed in windows and deduplicated again, which a horizon left in the future would
 * never do. All-time traits are untouched. Returns whether the horizon moved.
 */
export function rewindTraitHorizon(
  state: UserTraitState,
  watermark: EpochMs,
  compiled: CompiledTraits,
  latenessDays: number,
): boolean {
  const horizon = horizonDayAt(watermark, compiled, latenessDays);
  if (state.horizonDay <= horizon) return false;
  state.horizonDay = horizon;
  return true;
}
