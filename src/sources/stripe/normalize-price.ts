import { normalizeCurrency } from '../../domain/money/currency.js';
import type { Price, PriceTier } from '../../domain/stripe/model.js';
import type { RawPlan, RawPrice, RawTier } from './raw-schemas.js';

/** Price (or a legacy Plan) → domain Price; `unit_amount` wins, else `unit_amount_decimal` as a number. */
export function normalizePrice(raw: RawPrice): Price {
  return {
    id: raw.id,
    currency: normalizeCurrency(raw.currency),
    unitAmount: amountOf(raw.unit_amount, raw.unit_amount_decimal),
    billingScheme: raw.billing_scheme ?? 'per_unit',
    tiersMode: raw.tiers_mode ?? null,
    tiers: raw.tiers?.map(normalizeTier) ?? null,
    transformQuantity: raw.transform_quantity
      ? { divideBy: raw.transform_quantity.divide_by, round: raw.transform_quantity.round }
      : null,
    recurring: raw.recurring
      ? {
          interval: raw.recurring.interval,
          intervalCount: raw.recurring.interval_count ?? 1,
          usageType: raw.recurring.usage_type ?? 'licensed',
        }
      : null,
  };
}

export function normalizePlan(raw: RawPlan): Price {
  return {
    id: raw.id,
    currency: normalizeCurrency(raw.currency),
    unitAmount: amountOf(raw.amount, raw.amount_decimal),
    billingScheme: raw.billing_scheme ?? 'per_unit',
    tiersMode: raw.tiers_mode ?? null,
    tiers: raw.tiers?.map(normalizeTier) ?? null,
    transformQuantity: raw.transform_usage
      ? { divideBy: raw.transform_usage.divide_by, round: raw.transform_usage.round }
      : null,
    recurring: {
      interval: raw.interval,
      intervalCount: raw.interval_count ?? 1,
      usageType: raw.usage_type ?? 'licensed',
    },
  };
}

function normalizeTier(raw: RawTier): PriceTier {
  return {
    upTo: typeof raw.up_to === 'number' ? raw.up_to : null,
    unitAmount: amountOf(raw.unit_amount, raw.unit_amount_decimal),
    flatAmount: amountOf(raw.flat_amount, raw.flat_amount_decimal),
  };
}

function amountOf(integer: number | null | undefined, decimal: string | null | undefined): number | null {
  if (integer !== null && integer !== undefined) return integer;
  if (decimal !== null && decimal !== undefined) return Number(decimal);
  return null;
}
