/**
 * Arrays in per-user state are kept at their exact length while short: V8 grows an array by half its size + 16
 * on push/splice, which for a 10-element array would more than double its memory. Past EXACT_LENGTH_LIMIT the
 * spare capacity is proportionally small and copying on every insert would cost more than it saves.
 * Below the limit an insert is one exact-length allocation and one copy (not a splice and a slice).
 */
const EXACT_LENGTH_LIMIT = 64;

export function insertAt<T>(array: T[], at: number, values: readonly T[]): T[] {
  const length = array.length;
  const added = values.length;
  if (length + added > EXACT_LENGTH_LIMIT) {
    if (at === length) for (const value of values) array.push(value);
    else array.splice(at, 0, ...values);
    return array;
  }
  const out = new Array<T>(length + added);
  for (let i = 0; i < at; i++) out[i] = array[i] as T;
  for (let i = 0; i < added; i++) out[at + i] = values[i] as T;
  for (let i = at; i < length; i++) out[i + added] = array[i] as T;
  return out;
}

export function removeRange<T>(array: T[], at: number, count: number): T[] {
  if (count === 0) return array;
  array.splice(at, count);
  return array.length <= EXACT_LENGTH_LIMIT ? array.slice() : array;
}
