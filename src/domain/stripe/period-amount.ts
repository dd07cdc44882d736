import { roundHalfUp } from '../money/currency.js';
import type { Price, PriceTier } from './model.js';

/**
 * The amount one billing period of a licensed price costs for `quantity`, in integer minor units, before discounts
 * and tax, or null when the price does not carry what is needed (no unit amount, tiers not expanded).
 *
 * - per_unit: unit amount × quantity; with transform_quantity the quantity is first divided by `divide_by` and
 *   rounded up or down (Stripe's package pricing).
 * - tiered graduated: each tier prices the units that fall into it, plus its flat amount when it holds any unit.
 * - tiered volume: every unit is priced at the tier the whole quantity falls into, plus that tier's flat amount.
 * - A quantity of 0 costs 0 (no unit falls into any tier, so no flat amount is charged either).
 * - Fractional amounts (`*_decimal` prices) are rounded half up to minor units once per period, as an invoice line is.
 */
export function periodAmount(price: Price, quantity: number): number | null {
  if (quantity <= 0) return 0;
  if (price.billingScheme === 'tiered') {
    if (price.tiers === null || price.tiers.length === 0) return null;
    const amount =
      price.tiersMode === 'volume' ? volumeAmount(price.tiers, quantity) : graduatedAmount(price.tiers, quantity);
    return roundHalfUp(amount);
  }
  if (price.unitAmount === null) return null;
  return roundHalfUp(price.unitAmount * billableQuantity(price, quantity));
}

/** The quantity a per-unit price charges for, after transform_quantity. */
export function billableQuantity(price: Price, quantity: number): number {
  const transform = price.transformQuantity;
  if (transform === null) return quantity;
  const divided = quantity / transform.divideBy;
  return transform.round === 'up' ? Math.ceil(divided) : Math.floor(divided);
}

/** Why `periodAmount` returned null, for warnings. */
export function missingAmountReason(price: Price): string {
  return price.billingScheme === 'tiered'
    ? `price ${price.id} is tiered but its tiers were not included (expand tiers)`
    : `price ${price.id} has neither unit_amount nor unit_amount_decimal`;
}

/** The period amount's computation as a reader checks it, e.g. `graduated: 5 × 1000 + 3 × 800 = 7400`. */
export function describePeriodAmount(price: Price, quantity: number): string {
  const amount = periodAmount(price, quantity);
  if (amount === null) return missingAmountReason(price);
  if (price.billingScheme === 'tiered' && price.tiers !== null) {
    const parts =
      price.tiersMode === 'volume' ? volumeParts(price.tiers, quantity) : graduatedParts(price.tiers, quantity);
    return `${price.tiersMode ?? 'graduated'} tiers: ${parts.length > 0 ? parts.join(' + ') : '0'} = ${amount}`;
  }
  const transform = price.transformQuantity;
  const units =
    transform === null
      ? `${quantity}`
      : `${transform.round}(${quantity} / ${transform.divideBy}) = ${billableQuantity(price, quantity)}`;
  return `${price.unitAmount ?? 0} × ${units} = ${amount}`;
}

function graduatedAmount(tiers: readonly PriceTier[], quantity: number): number {
  let remaining = quantity;
  let previousUpTo = 0;
  let total = 0;
  for (const tier of tiers) {
    if (remaining <= 0) break;
    const units = tier.upTo === null ? remaining : Math.min(remaining, tier.upTo - previousUpTo);
    if (units > 0) total += units * (tier.unitAmount ?? 0) + (tier.flatAmount ?? 0);
    remaining -= units;
    if (tier.upTo !== null) previousUpTo = tier.upTo;
  }
  return total;
}

function graduatedParts(tiers: readonly PriceTier[], quantity: number): string[] {
  const parts: string[] = [];
  let remaining = quantity;
  let previousUpTo = 0;
  for (const tier of tiers) {
    if (remaining <= 0) break;
    const units = tier.upTo === null ? remaining : Math.min(remaining, tier.upTo - previousUpTo);
    if (units > 0) {
      parts.push(`${units} × ${tier.unitAmount ?? 0}`);
      if (tier.flatAmount) parts.push(`flat ${tier.flatAmount}`);
    }
    remaining -= units;
    if (tier.upTo !== null) previousUpTo = tier.upTo;
  }
  return parts;
}

function volumeTier(tiers: readonly PriceTier[], quantity: number): PriceTier | undefined {
  return tiers.find((tier) => tier.upTo === null || quantity <= tier.upTo) ?? tiers[tiers.length - 1];
}

function volumeAmount(tiers: readonly PriceTier[], quantity: number): number {
  const tier = volumeTier(tiers, quantity);
  if (tier === undefined) return 0;
  return quantity * (tier.unitAmount ?? 0) + (tier.flatAmount ?? 0);
}

function volumeParts(tiers: readonly PriceTier[], quantity: number): string[] {
  const tier = volumeTier(tiers, quantity);
  if (tier === undefined) return [];
  const parts = [`${quantity} × ${tier.unitAmount ?? 0} (tier up to ${tier.upTo ?? '∞'})`];
  if (tier.flatAmount) parts.push(`flat ${tier.flatAmount}`);
  return parts;
}
