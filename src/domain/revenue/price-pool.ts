import type { Price, PriceTier } from '../stripe/model.js';

/**
 * Prices come from a catalogue shared by all customers, so an equal price is kept as one object. The pool is
 * content-addressed (an equal value in, the same value out), so the core stays deterministic; it stops growing at its
 * limit, past which prices are simply not shared.
 */
const PRICE_POOL_LIMIT = 100_000;
const pricePool = new Map<string, Price>();

export function internPrice(price: Price): Price {
  const pooled = pricePool.get(price.id);
  if (pooled !== undefined) return samePrice(pooled, price) ? pooled : price;
  if (pricePool.size < PRICE_POOL_LIMIT) pricePool.set(price.id, price);
  return price;
}

export function samePrice(a: Price, b: Price): boolean {
  if (a === b) return true;
  const ar = a.recurring;
  const br = b.recurring;
  return (
    a.id === b.id &&
    a.currency === b.currency &&
    a.unitAmount === b.unitAmount &&
    a.billingScheme === b.billingScheme &&
    a.tiersMode === b.tiersMode &&
    a.transformQuantity?.divideBy === b.transformQuantity?.divideBy &&
    a.transformQuantity?.round === b.transformQuantity?.round &&
    (ar === null) === (br === null) &&
    ar?.interval === br?.interval &&
    ar?.intervalCount === br?.intervalCount &&
    ar?.usageType === br?.usageType &&
    sameTiers(a.tiers, b.tiers)
  );
}

function sameTiers(a: readonly PriceTier[] | null, b: readonly PriceTier[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  return a.every((tier, i) => {
    const other = b[i] as PriceTier;
    return tier.upTo === other.upTo && tier.unitAmount === other.unitAmount && tier.flatAmount === other.flatAmount;
  });
}

export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
