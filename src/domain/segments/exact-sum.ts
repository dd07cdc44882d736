/**
 * Summaries add and subtract member values in any order and must land on the same numbers as a from-scratch
 * recomputation. Float addition is not associative, so each value is split into its integer part and its
 * fraction in units of 1e-9, and both parts are summed as integers: exact (while the integer sums stay below
 * 2^53) and independent of order. Values are thereby resolved to 1e-9, far below any displayed precision.
 */
const FRACTION_UNITS = 1e9;

export function wholePart(value: number): number {
  return Math.trunc(value);
}

export function fractionUnits(value: number): number {
  return Math.round((value - Math.trunc(value)) * FRACTION_UNITS);
}

export function combineSum(wholeSum: number, fractionSum: number): number {
  return wholeSum + fractionSum / FRACTION_UNITS;
}
