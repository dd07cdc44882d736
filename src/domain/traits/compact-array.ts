/**
 * Arrays in per-user state are kept at their exact length while short: V8 grows an array by half its size + 16
 * on push/splice, which for a 10-element array would more than double its memory. Past EXACT_LENGTH_LIMIT the
 * spare capacity is proportionally small and copying on every insert would cost more than it saves.
 */
const EXACT_LENGTH_LIMIT = 64;

export function insertAt<T>(array: T[], at: number, ...values: T[]): T[] {
  if (at === array.length && array.length >= EXACT_LENGTH_LIMIT) {
    for (const value of values) array.push(value);
    return array;
  }
  array.splice(at, 0, ...values);
  return array.length <= EXACT_LENGTH_LIMIT ? array.slice() : array;
}

export function removeRange<T>(array: T[], at: number, count: number): T[] {
  if (count === 0) return array;
  array.splice(at, count);
  return array.length <= EXACT_LENGTH_LIMIT ? array.slice() : array;
}
