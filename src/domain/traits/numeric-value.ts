import type { JsonValue } from '../segment/model.js';

const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * A numeric property as a number: JSON numbers, and decimal strings such as "19.99" (common from server code).
 * Anything else (missing, null, booleans, text, objects) is not a number and the event contributes nothing.
 */
export function numericValue(value: JsonValue | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && DECIMAL.test(value)) {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

/**
 * Sums are kept as integers of millionths so that adding the same values in any order gives the same total
 * (floating-point addition is not associative, integer addition below 2^53 is). Values are rounded to 6 decimals on
 * entry; totals stay exact up to ±9.0e9 units.
 */
export const SUM_SCALE = 1_000_000;

export function toScaled(value: number): number {
  return Math.round(value * SUM_SCALE);
}

export function fromScaled(scaled: number): number {
  return scaled / SUM_SCALE + 0;
}
