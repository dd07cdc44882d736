import type { CurrencyCode } from '../money/currency.js';
import type { EpochMs } from '../time.js';

/** A value segment rules and summaries can read. Arrays are unique lists (e.g. a unique-list trait). */
export type FieldValue = number | string | boolean | readonly string[] | null;

export type ProfileKind = 'customer' | 'user';

export type MovementType = 'new' | 'expansion' | 'contraction' | 'churn' | 'reactivation';

/** Sums of MRR movements in minor units of the reporting currency; every value is a non-negative magnitude. */
export type MrrMovements = Readonly<Record<MovementType, number>>;

export interface CustomerRevenue {
  readonly reportingCurrency: CurrencyCode;
  /** Current MRR in minor units of the reporting currency. */
  readonly mrr: number;
  /** Current MRR per original currency, minor units. */
  readonly mrrByCurrency: Readonly<Record<CurrencyCode, number>>;
  readonly movements: MrrMovements;
  readonly lastMovement: { readonly type: MovementType; readonly amount: number; readonly at: EpochMs } | null;
  /** lead: never paid; active: MRR > 0; churned: paid before, MRR now 0. */
  readonly status: 'lead' | 'active' | 'churned';
  readonly payingSubscriptions: number;
  readonly flags: {
    readonly metered: boolean;
    readonly scheduledChurn: boolean;
    readonly pastDue: boolean;
    readonly pauseCollection: boolean;
  };
  /** Currencies with MRR but no FX rate: kept in mrrByCurrency, left out of `mrr`. */
  readonly unconvertedCurrencies: readonly CurrencyCode[];
}

/**
 * What the processor derives for one entity and writes to the compacted `profiles` topic.
 * `fields` is the flat view segment rules and summaries read (documented in the README's pipeline config reference).
 */
export interface Profile {
  /** `customer:<stripe customer id>` or `user:<segment userId or anonymousId>`. */
  readonly key: string;
  readonly kind: ProfileKind;
  readonly entityId: string;
  /** The event time the profile was evaluated at (windows, inactivity and discount ends are relative to it). */
  readonly asOf: EpochMs;
  /** Event time of the newest fact applied to the entity. */
  readonly lastEventAt: EpochMs;
  readonly revenue: CustomerRevenue | null;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

export function profileKey(kind: ProfileKind, entityId: string): string {
  return `${kind}:${entityId}`;
}
