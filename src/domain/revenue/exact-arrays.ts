/**
 * Copy-on-write arrays kept at their exact length. V8 gives an array grown by push/splice spare capacity (half its
 * size + 16 slots), and an empty `[]` costs a whole object; over a million small per-customer lists that is most of
 * the memory. Lists in state change rarely, so a copy per change is the cheaper side.
 */
export const EMPTY: readonly never[] = Object.freeze([]);

/** `array` plus `value`, ordered by `order` when given, the first entries dropped beyond `limit`. */
export function appended<T>(
  array: readonly T[],
  value: T,
  limit: number,
  order?: (a: T, b: T) => number,
): readonly T[] {
  const next = array.concat([value]);
  if (order !== undefined) next.sort(order);
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** `array` with the entry at `index` replaced, ordered by `order` when given. */
export function replaced<T>(
  array: readonly T[],
  index: number,
  value: T,
  order?: (a: T, b: T) => number,
): readonly T[] {
  const next = array.slice();
  next[index] = value;
  if (order !== undefined) next.sort(order);
  return next;
}
