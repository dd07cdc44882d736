import type { FieldValue } from '../profile/model.js';
import { dayIndex, type EpochMs } from '../time.js';
import { churnRisk, engagementTier } from './activity-builtins.js';
import { ACTIVITY_WINDOW_DAYS, type CompiledAggregate, type CompiledTraits } from './compiled-traits.js';
import { toFieldValue } from './field-value.js';
import { bucketActivity, nextBucket } from './day-buckets.js';
import { fromScaled, SUM_SCALE } from './numeric-value.js';
import {
  distinctValueCount,
  mergeValueCounts,
  mostFrequentValue,
  sortedValues,
  type ValueCounts,
} from './value-counts.js';
import { BUCKET_DAY, type AggregateRef, type UserTraitState } from './user-trait-state.js';

/**
 * The user's traits at event time `at` (a pure read). Keys: every definition's key in definition order, `email`
 * (from identify traits) when no definition has that key, `first_seen_at` and `last_seen_at` (epoch ms or null).
 *
 * A window of N days covers the UTC day of `at` and the N−1 days before it (day granularity: a message later on
 * the same day counts too). Evaluate at or after the last watermark passed to advanceTraitState, since older days
 * may have been folded away. Empty aggregates: count, sum and unique_count 0, unique_list [], others null.
 * When identify precedence is on, the newest non-null identify value under the trait's key wins over the
 * computed one.
 */
export function evaluateTraits(
  state: UserTraitState,
  compiled: CompiledTraits,
  at: EpochMs,
): Record<string, FieldValue> {
  const today = dayIndex(at);
  const traits: Record<string, FieldValue> = {};
  for (const output of compiled.outputs) {
    switch (output.kind) {
      case 'identify':
        traits[output.key] = identifyValue(state, output.slots);
        break;
      case 'aggregate':
        traits[output.key] =
          preferredIdentifyValue(state, output.identifySlot) ??
          aggregateValue(state, compiled, output.aggregate, today);
        break;
      case 'churn_risk':
        traits[output.key] =
          preferredIdentifyValue(state, output.identifySlot) ??
          churnRisk(state.lastActivityAt, activityInWindow(state, today).events, at);
        break;
      case 'engagement_tier':
        traits[output.key] =
          preferredIdentifyValue(state, output.identifySlot) ??
          engagementTier(state.lastActivityAt, activityInWindow(state, today).activeDays);
        break;
    }
  }
  if (compiled.implicitEmailSlot >= 0) traits['email'] = identifyValue(state, [compiled.implicitEmailSlot]);
  traits['first_seen_at'] = Number.isFinite(state.firstSeenAt) ? state.firstSeenAt : null;
  traits['last_seen_at'] = Number.isFinite(state.lastSeenAt) ? state.lastSeenAt : null;
  return traits;
}

/** First slot of the fallback chain holding a non-null value. */
function identifyValue(state: UserTraitState, slots: readonly number[]): FieldValue {
  const values = state.identifyValues;
  if (values === null) return null;
  for (const slot of slots) {
    const value = values[slot];
    if (value !== undefined && value !== null) return toFieldValue(value);
  }
  return null;
}

function preferredIdentifyValue(state: UserTraitState, slot: number): FieldValue {
  return slot < 0 ? null : identifyValue(state, [slot]);
}

function activityInWindow(state: UserTraitState, today: number): { events: number; activeDays: number } {
  const firstDay = today - ACTIVITY_WINDOW_DAYS + 1;
  const window = state.window;
  let events = 0;
  let activeDays = 0;
  for (let at = 0; at < state.windowLength; at = nextBucket(window, at)) {
    const day = window[at + BUCKET_DAY] as number;
    if (day < firstDay || day > today) continue;
    const activity = bucketActivity(window, at);
    events += activity;
    if (activity > 0) activeDays++;
  }
  return { events, activeDays };
}

/** Where one partial aggregate lives: the all-time accumulator, or each bucket inside the window. */
interface PartialSource {
  readonly num: readonly number[];
  readonly numAt: number;
  readonly ref: readonly AggregateRef[];
  readonly refAt: number;
}

function partialsOf(
  state: UserTraitState,
  compiled: CompiledTraits,
  aggregate: CompiledAggregate,
  today: number,
): PartialSource[] {
  if (aggregate.windowDays === 0) {
    if (state.allTimeNum === null || state.allTimeRef === null) return [];
    return [{ num: state.allTimeNum, numAt: aggregate.numOffset, ref: state.allTimeRef, refAt: aggregate.refOffset }];
  }
  const firstDay = today - aggregate.windowDays + 1;
  const numWidth = compiled.windowedNumInit.length;
  const refWidth = compiled.windowedRefWidth;
  const sources: PartialSource[] = [];
  const window = state.window;
  for (let at = 0, bucket = 0; at < state.windowLength; at = nextBucket(window, at), bucket++) {
    const day = window[at + BUCKET_DAY] as number;
    if (day < firstDay || day > today) continue;
    sources.push({
      num: state.windowedNum ?? [],
      numAt: bucket * numWidth + aggregate.numOffset,
      ref: state.windowedRef ?? [],
      refAt: bucket * refWidth + aggregate.refOffset,
    });
  }
  return sources;
}

function aggregateValue(
  state: UserTraitState,
  compiled: CompiledTraits,
  aggregate: CompiledAggregate,
  today: number,
): FieldValue {
  const sources = partialsOf(state, compiled, aggregate, today);
  switch (aggregate.kind) {
    case 'count':
      return sumNum(sources, 0);
    case 'sum':
      return fromScaled(sumNum(sources, 0));
    case 'avg': {
      const count = sumNum(sources, 1);
      return count === 0 ? null : sumNum(sources, 0) / count / SUM_SCALE + 0;
    }
    case 'min': {
      let min = Infinity;
      for (const s of sources) min = Math.min(min, s.num[s.numAt] as number);
      return Number.isFinite(min) ? min : null;
    }
    case 'max': {
      let max = -Infinity;
      for (const s of sources) max = Math.max(max, s.num[s.numAt] as number);
      return Number.isFinite(max) ? max : null;
    }
    case 'first':
    case 'last': {
      const first = aggregate.kind === 'first';
      let best: PartialSource | null = null;
      for (const s of sources) {
        const at = s.num[s.numAt] as number;
        if (!Number.isFinite(at)) continue;
        if (best === null) {
          best = s;
          continue;
        }
        const bestAt = best.num[best.numAt] as number;
        const order =
          at === bestAt ? (s.num[s.numAt + 1] as number) - (best.num[best.numAt + 1] as number) : at - bestAt;
        if (first ? order < 0 : order > 0) best = s;
      }
      return best === null ? null : toFieldValue(best.ref[best.refAt]);
    }
    case 'most_frequent':
      return mostFrequentValue(countsOf(sources));
    case 'unique_list':
      return sortedValues(countsOf(sources));
    case 'unique_count':
      return distinctValueCount(countsOf(sources));
  }
}

function sumNum(sources: readonly PartialSource[], offset: number): number {
  let total = 0;
  for (const s of sources) total += s.num[s.numAt + offset] as number;
  return total;
}

function countsOf(sources: readonly PartialSource[]): ValueCounts | null {
  const parts = sources.map((s) => s.ref[s.refAt] as ValueCounts | null);
  if (parts.length === 1) return parts[0] ?? null;
  return mergeValueCounts(parts);
}
