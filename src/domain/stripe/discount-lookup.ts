import type { Discount } from './model.js';

/** How the MRR rules find a discount by the id a snapshot carries: a table, or a function over the caller's state. */
export type DiscountLookup = ReadonlyMap<string, Discount> | ((id: string) => Discount | undefined);

export function findDiscount(lookup: DiscountLookup, id: string): Discount | undefined {
  return typeof lookup === 'function' ? lookup(id) : lookup.get(id);
}

/** A table keyed by discount id; a later discount with the same id replaces an earlier one. */
export function discountTable(discounts: Iterable<Discount>): Map<string, Discount> {
  const table = new Map<string, Discount>();
  for (const discount of discounts) table.set(discount.id, discount);
  return table;
}
