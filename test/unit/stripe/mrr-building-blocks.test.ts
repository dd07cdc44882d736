import { describe, expect, it } from 'vitest';
import { allocateByLargestRemainder } from '../../../src/domain/stripe/allocate.js';
import { addBillingInterval } from '../../../src/domain/stripe/billing-interval.js';
import { discountEffectiveEnd } from '../../../src/domain/stripe/discount-activity.js';
import { monthlyAmount, monthlyFactorText } from '../../../src/domain/stripe/monthly-factor.js';
import { describePeriodAmount } from '../../../src/domain/stripe/period-amount.js';
import { discount, price } from './builders.js';

describe('allocateByLargestRemainder', () => {
  it('gives leftover units to the largest remainders, ties to the earlier index', () => {
    expect(allocateByLargestRemainder(100, [1000, 1000, 1000])).toEqual([34, 33, 33]);
    expect(allocateByLargestRemainder(10, [1, 2])).toEqual([3, 7]);
    expect(allocateByLargestRemainder(5, [1, 0, 3])).toEqual([1, 0, 4]);
  });

  it('gives nothing when every weight is 0', () => {
    expect(allocateByLargestRemainder(100, [0, 0])).toEqual([0, 0]);
  });
});

describe('addBillingInterval', () => {
  it('adds calendar months, clamping to the last day of the month', () => {
    expect(addBillingInterval(Date.UTC(2026, 0, 31, 12), 'month', 1)).toBe(Date.UTC(2026, 1, 28, 12));
    expect(addBillingInterval(Date.UTC(2028, 0, 31), 'month', 1)).toBe(Date.UTC(2028, 1, 29));
    expect(addBillingInterval(Date.UTC(2026, 10, 15), 'month', 3)).toBe(Date.UTC(2027, 1, 15));
    expect(addBillingInterval(Date.UTC(2028, 1, 29), 'year', 1)).toBe(Date.UTC(2029, 1, 28));
  });

  it('adds fixed days and weeks', () => {
    expect(addBillingInterval(Date.UTC(2026, 0, 1), 'week', 2)).toBe(Date.UTC(2026, 0, 15));
    expect(addBillingInterval(Date.UTC(2026, 0, 1), 'day', 45)).toBe(Date.UTC(2026, 1, 15));
  });
});

describe('discountEffectiveEnd', () => {
  const monthly = { interval: 'month' as const, intervalCount: 1, usageType: 'licensed' as const };
  it('repeating ends at Discount.end, forever never, once one interval after start', () => {
    const start = Date.UTC(2026, 2, 10);
    expect(discountEffectiveEnd(discount({ id: 'r', duration: 'repeating', start, end: start + 5 }), monthly)).toBe(
      start + 5,
    );
    expect(discountEffectiveEnd(discount({ id: 'f', duration: 'forever', start }), monthly)).toBeNull();
    expect(discountEffectiveEnd(discount({ id: 'o', duration: 'once', start }), monthly)).toBe(Date.UTC(2026, 3, 10));
  });
});

describe('monthly factors', () => {
  it('is exact before the one rounding', () => {
    expect(monthlyAmount(200000, 'year', 1)).toBe(16667);
    expect(monthlyAmount(6, 'day', 1)).toBe(183); // 182.5 rounds half up
    expect(monthlyAmount(1000, 'week', 2)).toBe(2167);
    expect(monthlyAmount(-5, 'month', 1)).toBe(0);
  });

  it('prints the factor as a reader checks it', () => {
    expect(monthlyFactorText('month', 3)).toBe('÷ 3');
    expect(monthlyFactorText('year', 2)).toBe('÷ 12 ÷ 2');
    expect(monthlyFactorText('week', 1)).toBe('× 52/12 ÷ 1');
    expect(monthlyFactorText('day', 1)).toBe('× 365/12 ÷ 1');
  });
});

describe('describePeriodAmount', () => {
  it('shows transform_quantity and volume tiers', () => {
    expect(describePeriodAmount(price({ transformQuantity: { divideBy: 10, round: 'up' } }), 25)).toBe(
      '1000 × up(25 / 10) = 3 = 3000',
    );
    const volume = price({
      unitAmount: null,
      billingScheme: 'tiered',
      tiersMode: 'volume',
      tiers: [
        { upTo: 5, unitAmount: 1000, flatAmount: null },
        { upTo: null, unitAmount: 800, flatAmount: null },
      ],
    });
    expect(describePeriodAmount(volume, 8)).toBe('volume tiers: 8 × 800 (tier up to ∞) = 6400');
  });
});
