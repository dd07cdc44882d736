import { roundHalfUp } from '../money/currency.js';
import type { RecurringInterval } from './model.js';

/**
 * Normalisation of a billing period to a month, as an exact fraction numerator / denominator:
 * month: 1/n; year: 1/(12·n); week: 52/(12·n) (52 weeks a year, not ×4 or ×4.33); day: 365/(12·n) (not ×30).
 * The fraction is applied to an integer period amount before one half-up rounding, so no factor is pre-rounded.
 */
export function monthlyFactorNumerator(interval: RecurringInterval): number {
  switch (interval) {
    case 'month':
    case 'year':
      return 1;
    case 'week':
      return 52;
    case 'day':
      return 365;
  }
}

export function monthlyFactorDenominator(interval: RecurringInterval, intervalCount: number): number {
  return interval === 'month' ? intervalCount : 12 * intervalCount;
}

/** The factor as a reader checks it by hand, e.g. `× 52/12 ÷ 1` for a weekly price. */
export function monthlyFactorText(interval: RecurringInterval, intervalCount: number): string {
  switch (interval) {
    case 'month':
      return `÷ ${intervalCount}`;
    case 'year':
      return `÷ 12 ÷ ${intervalCount}`;
    case 'week':
      return `× 52/12 ÷ ${intervalCount}`;
    case 'day':
      return `× 365/12 ÷ ${intervalCount}`;
  }
}

/** MRR of one period amount (minor units): roundHalfUp(amount × numerator / denominator), never below 0. */
export function monthlyAmount(periodAmount: number, interval: RecurringInterval, intervalCount: number): number {
  if (periodAmount <= 0) return 0;
  return roundHalfUp(
    (periodAmount * monthlyFactorNumerator(interval)) / monthlyFactorDenominator(interval, intervalCount),
  );
}
