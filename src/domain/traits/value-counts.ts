import type { JsonValue } from '../segment/model.js';

/**
 * value → occurrences as a flat array `[value0, count0, value1, count1, …]` sorted by value in code-unit order.
 * Flat and sorted because these are small and live in every user's state: no Map overhead, binary search.
 */
export type ValueCounts = (string | number)[];

/** Segment drops event-property values beyond 10,000 distinct keys per trait; so do we (order-dependent past it). */
export const MAX_DISTINCT_VALUES = 10_000;

/** Arrays this short are rebuilt at exact size on insert (no spare capacity retained); longer ones grow in place. */
const EXACT_SIZE_LIMIT = 64;

/** The key a property value is counted under: strings as they are, numbers and booleans as text; others: none. */
export function countedValueKey(value: JsonValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Adds `by` occurrences of `value`; returns the (possibly new) array. */
export function addValueCount(counts: ValueCounts | null, value: string, by: number): ValueCounts {
  if (counts === null) return [value, by];
  let low = 0;
  let high = counts.length / 2;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const candidate = counts[mid * 2] as string;
    if (candidate === value) {
      counts[mid * 2 + 1] = (counts[mid * 2 + 1] as number) + by;
      return counts;
    }
    if (candidate < value) low = mid + 1;
    else high = mid;
  }
  if (counts.length / 2 >= MAX_DISTINCT_VALUES) return counts;
  const at = low * 2;
  if (counts.length < EXACT_SIZE_LIMIT) return counts.slice(0, at).concat([value, by], counts.slice(at));
  counts.splice(at, 0, value, by);
  return counts;
}

export function distinctValueCount(counts: ValueCounts | null): number {
  return counts === null ? 0 : counts.length / 2;
}

export function sortedValues(counts: ValueCounts | null): string[] {
  const values: string[] = [];
  if (counts !== null) for (let i = 0; i < counts.length; i += 2) values.push(counts[i] as string);
  return values;
}

/** Segment's rule: the most frequent value needs at least 2 occurrences; a tie goes to the alphabetically first. */
export function mostFrequentValue(counts: ValueCounts | null): string | null {
  if (counts === null) return null;
  let best: string | null = null;
  let bestCount = 1;
  for (let i = 0; i < counts.length; i += 2) {
    const count = counts[i + 1] as number;
    if (count > bestCount) {
      bestCount = count;
      best = counts[i] as string;
    }
  }
  return best;
}

/** Sum of several buckets' counts (windowed traits), as a new array. */
export function mergeValueCounts(parts: readonly (ValueCounts | null)[]): ValueCounts | null {
  let merged: ValueCounts | null = null;
  for (const part of parts) {
    if (part === null) continue;
    for (let i = 0; i < part.length; i += 2) {
      merged = addValueCount(merged, part[i] as string, part[i + 1] as number);
    }
  }
  return merged;
}
