import { roundHalfUp, type CurrencyCode } from '../money/currency.js';
import type { EpochMs } from '../time.js';
import { allocateByLargestRemainder } from './allocate.js';
import { discountEffectiveEnd, isCouponResolved } from './discount-activity.js';
import { findDiscount, type DiscountLookup } from './discount-lookup.js';
import type { Discount, Price, RecurringInterval, SubscriptionItem, SubscriptionSnapshot } from './model.js';
import { monthlyAmount, monthlyFactorText } from './monthly-factor.js';
import { describePeriodAmount, missingAmountReason, periodAmount } from './period-amount.js';

/*
 * The MRR rules, per subscription (frozen policy; amounts in integer minor units of the subscription's currency):
 * - statuses: active and past_due count; trialing, incomplete, incomplete_expired, unpaid, canceled, paused count 0;
 *   a subscription with pause_collection set counts 0 whatever its status.
 * - cancel_at_period_end (or a future cancel_at): the subscription keeps counting until it is deleted, and is
 *   flagged as scheduled churn.
 * - metered prices (usage_type=metered) are excluded (0) and flagged; one-time prices are excluded.
 * - per item: MRR = roundHalfUp(period amount after discounts × monthly factor), never below 0 (monthly-factor.ts,
 *   period-amount.ts); tax is not part of a price and refunds are not subscription state, so neither is seen here.
 * - discounts: every discount present on the snapshot (by id) and active at `at` (discount-activity.ts) is
 *   subtracted; item-level discounts first, then subscription-level ones, each in the order the snapshot lists them,
 *   each on what the previous ones left. percent_off takes roundHalfUp(amount × percent / 100) off an item;
 *   amount_off takes its amount off every invoice (billing period), in the coupon's currency only: a coupon in
 *   another currency is not applied and reported. A subscription-level amount_off is split across the licensed items
 *   in proportion to their period amounts, by largest remainder in minor units, before the per-item rounding.
 * - the end (or a future start) of an applied discount is where the MRR changes with no new event: the earliest
 *   such instant after `at` is `nextBreakpoint`, for the caller to re-evaluate at.
 * - a discount id the lookup does not know, or whose coupon value is unknown, is not applied and is reported.
 * - a customer-level discount (pre-basil `customer.discount`) applies to a subscription only when the subscription
 *   has no subscription-level discount of its own (Stripe: a subscription's coupon overrides the customer's).
 */

export interface SubscriptionMrrFlags {
  readonly metered: boolean;
  readonly scheduledChurn: boolean;
  readonly pastDue: boolean;
  readonly pauseCollection: boolean;
}

/** The MRR of one subscription at one instant: the numbers the reducer needs on every subscription event. */
export interface SubscriptionMrr {
  readonly subscriptionId: string;
  readonly customerId: string;
  readonly currency: CurrencyCode;
  readonly counted: boolean;
  /** Why the whole subscription counts 0 (e.g. `status trialing`); null when it counts. */
  readonly reason: string | null;
  /** Minor units of `currency`. */
  readonly total: number;
  readonly flags: SubscriptionMrrFlags;
  /** Earliest instant after `at` at which the MRR changes with no new event (a discount ends or starts). */
  readonly nextBreakpoint: EpochMs | null;
  readonly warnings: readonly string[];
}

export type DiscountLevel = 'item' | 'subscription' | 'customer';

export interface AppliedDiscount {
  readonly id: string;
  readonly couponId: string;
  readonly level: DiscountLevel;
  /** What the coupon takes off, e.g. `20%` or `500 usd`. */
  readonly off: string;
  /** Minor units taken off this item's period amount. */
  readonly amount: number;
}

export interface ItemMrr {
  readonly itemId: string;
  readonly priceId: string;
  readonly quantity: number;
  readonly interval: RecurringInterval | null;
  readonly intervalCount: number | null;
  /** One billing period before discounts, minor units; null when the price lacks the amounts to compute it. */
  readonly periodAmount: number | null;
  readonly discountsApplied: readonly AppliedDiscount[];
  /** The period amount the monthly factor was applied to. */
  readonly periodAmountAfterDiscounts: number;
  /** The monthly factor, e.g. `× 52/12 ÷ 1`. */
  readonly factor: string;
  readonly mrr: number;
  /** The computation in words, e.g. `5000 × 1 = 5000 per 1 month; − 20% (di_1) 1000 = 4000; ÷ 1 = 4000`. */
  readonly rule: string;
  readonly excludedReason: string | null;
}

/** The rich form for `explain-mrr`: the same numbers as `subscriptionMrr`, with each item's computation. */
export interface SubscriptionMrrExplanation extends SubscriptionMrr {
  readonly items: readonly ItemMrr[];
}

/** Hot path: numbers only. Agrees with `explainSubscriptionMrr` by construction (one evaluation, no trace). */
export function subscriptionMrr(
  snapshot: SubscriptionSnapshot,
  discounts: DiscountLookup,
  at: EpochMs,
  customerDiscountId: string | null = null,
): SubscriptionMrr {
  return evaluate(snapshot, discounts, at, customerDiscountId, null);
}

export function explainSubscriptionMrr(
  snapshot: SubscriptionSnapshot,
  discounts: DiscountLookup,
  at: EpochMs,
  customerDiscountId: string | null = null,
): SubscriptionMrrExplanation {
  const traces: ItemTrace[] = [];
  const result = evaluate(snapshot, discounts, at, customerDiscountId, traces);
  return { ...result, items: traces.map(toItemMrr) };
}

interface ItemTrace {
  readonly item: SubscriptionItem;
  readonly periodAmount: number | null;
  readonly discountsApplied: AppliedDiscount[];
  excludedReason: string | null;
  amountAfterDiscounts: number;
  mrr: number;
}

const NO_WARNINGS: readonly string[] = Object.freeze([]);
const NO_IDS: readonly string[] = NO_WARNINGS;

/** Per-call mutable bookkeeping: warnings (deduplicated) and the earliest breakpoint. */
class Evaluation {
  warnings: string[] | null = null;
  nextBreakpoint: EpochMs | null = null;

  constructor(
    readonly lookup: DiscountLookup,
    readonly at: EpochMs,
  ) {}

  warn(message: string): void {
    if (this.warnings === null) this.warnings = [message];
    else if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  breakpoint(instant: EpochMs): void {
    if (this.nextBreakpoint === null || instant < this.nextBreakpoint) this.nextBreakpoint = instant;
  }

  /** The discount with this id if it applies at `at`; records why not, or when it will stop applying. */
  activeDiscount(id: string, billing: Price['recurring']): Discount | null {
    const discount = findDiscount(this.lookup, id);
    if (discount === undefined) {
      this.warn(`discount ${id} unresolved: not among the known discounts (not expanded or not received); not applied`);
      return null;
    }
    if (!isCouponResolved(discount)) {
      this.warn(
        `discount ${id} unresolved: coupon ${discount.couponId} was not expanded, its percent/amount off is unknown; not applied`,
      );
      return null;
    }
    if (discount.start > this.at) {
      this.breakpoint(discount.start);
      return null;
    }
    const end = discountEffectiveEnd(discount, billing);
    if (end !== null) {
      if (this.at >= end) return null;
      this.breakpoint(end);
    }
    return discount;
  }
}

function evaluate(
  snapshot: SubscriptionSnapshot,
  lookup: DiscountLookup,
  at: EpochMs,
  customerDiscountId: string | null,
  traces: ItemTrace[] | null,
): SubscriptionMrr {
  const flags = flagsOf(snapshot, at);
  const notCounted = notCountedReason(snapshot);
  const items = snapshot.items;

  if (notCounted !== null) {
    if (traces !== null) {
      for (const item of items) traces.push(newTrace(item, licensedPeriodAmount(item), notCounted));
    }
    return {
      subscriptionId: snapshot.id,
      customerId: snapshot.customerId,
      currency: snapshot.currency,
      counted: false,
      reason: notCounted,
      total: 0,
      flags,
      nextBreakpoint: null,
      warnings: NO_WARNINGS,
    };
  }

  const evaluation = new Evaluation(lookup, at);
  // NaN marks an item that does not count; otherwise its period amount after the discounts applied so far.
  const amounts = new Array<number>(items.length);
  let billing: Price['recurring'] = null;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as SubscriptionItem;
    let excluded = exclusionReason(item, snapshot.currency);
    const base = excluded === null ? periodAmount(item.price, item.quantity) : null;
    if (excluded === null && base === null) excluded = missingAmountReason(item.price);
    if (excluded !== null && excluded !== METERED && excluded !== ONE_TIME)
      evaluation.warn(`item ${item.id}: ${excluded}`);

    const trace = traces === null ? null : newTrace(item, base ?? licensedPeriodAmount(item), excluded);
    if (trace !== null) traces?.push(trace);
    if (excluded !== null || base === null) {
      amounts[i] = Number.NaN;
      continue;
    }
    billing ??= item.price.recurring;
    amounts[i] = applyItemDiscounts(evaluation, item, base, snapshot.currency, trace);
  }

  const ownDiscounts = snapshot.discountIds.length > 0;
  const subscriptionDiscountIds = ownDiscounts
    ? snapshot.discountIds
    : customerDiscountId === null
      ? NO_IDS
      : [customerDiscountId];
  if (billing !== null && subscriptionDiscountIds.length > 0) {
    const level: DiscountLevel = ownDiscounts ? 'subscription' : 'customer';
    for (const id of subscriptionDiscountIds) {
      const discount = evaluation.activeDiscount(id, billing);
      if (discount !== null) applySubscriptionDiscount(evaluation, discount, level, snapshot, amounts, traces);
    }
  }

  let total = 0;
  for (let i = 0; i < items.length; i++) {
    const amount = amounts[i] as number;
    if (Number.isNaN(amount)) continue;
    const recurring = (items[i] as SubscriptionItem).price.recurring;
    if (recurring === null) continue;
    const mrr = monthlyAmount(amount, recurring.interval, recurring.intervalCount);
    total += mrr;
    const trace = traces?.[i];
    if (trace !== undefined) {
      trace.amountAfterDiscounts = amount;
      trace.mrr = mrr;
    }
  }

  return {
    subscriptionId: snapshot.id,
    customerId: snapshot.customerId,
    currency: snapshot.currency,
    counted: true,
    reason: null,
    total,
    flags,
    nextBreakpoint: evaluation.nextBreakpoint,
    warnings: evaluation.warnings ?? NO_WARNINGS,
  };
}

const METERED = 'metered usage (usage_type=metered) is excluded from MRR';
const ONE_TIME = 'one-time price (no recurring interval) is not recurring revenue';

function exclusionReason(item: SubscriptionItem, currency: CurrencyCode): string | null {
  const recurring = item.price.recurring;
  if (recurring === null) return ONE_TIME;
  if (recurring.usageType === 'metered') return METERED;
  if (item.price.currency !== currency) {
    return `price ${item.price.id} is in ${item.price.currency} but the subscription bills in ${currency}; not counted`;
  }
  return null;
}

function notCountedReason(snapshot: SubscriptionSnapshot): string | null {
  if (snapshot.status !== 'active' && snapshot.status !== 'past_due') return `status ${snapshot.status}`;
  if (snapshot.pauseCollection) return 'pause_collection set';
  return null;
}

function flagsOf(snapshot: SubscriptionSnapshot, at: EpochMs): SubscriptionMrrFlags {
  let metered = false;
  for (const item of snapshot.items) {
    if (item.price.recurring?.usageType === 'metered') metered = true;
  }
  const live = snapshot.status !== 'canceled' && snapshot.status !== 'incomplete_expired' && snapshot.endedAt === null;
  return {
    metered,
    scheduledChurn: live && (snapshot.cancelAtPeriodEnd || (snapshot.cancelAt !== null && snapshot.cancelAt > at)),
    pastDue: snapshot.status === 'past_due',
    pauseCollection: snapshot.pauseCollection,
  };
}

function applyItemDiscounts(
  evaluation: Evaluation,
  item: SubscriptionItem,
  base: number,
  currency: CurrencyCode,
  trace: ItemTrace | null,
): number {
  let amount = base;
  for (const id of item.discountIds) {
    const discount = evaluation.activeDiscount(id, item.price.recurring);
    if (discount === null) continue;
    let off: number;
    if (discount.percentOff !== null) {
      off = percentOff(amount, discount.percentOff);
    } else if (discount.amountOffCurrency !== null && discount.amountOffCurrency !== currency) {
      evaluation.warn(currencyMismatch(discount, currency, `item ${item.id}`));
      continue;
    } else {
      off = Math.min(discount.amountOff ?? 0, amount);
    }
    amount -= off;
    trace?.discountsApplied.push(applied(discount, 'item', off));
  }
  return amount;
}

function applySubscriptionDiscount(
  evaluation: Evaluation,
  discount: Discount,
  level: DiscountLevel,
  snapshot: SubscriptionSnapshot,
  amounts: number[],
  traces: ItemTrace[] | null,
): void {
  if (discount.percentOff !== null) {
    for (let i = 0; i < amounts.length; i++) {
      const amount = amounts[i] as number;
      if (Number.isNaN(amount)) continue;
      const off = percentOff(amount, discount.percentOff);
      amounts[i] = amount - off;
      traces?.[i]?.discountsApplied.push(applied(discount, level, off));
    }
    return;
  }
  if (discount.amountOffCurrency !== null && discount.amountOffCurrency !== snapshot.currency) {
    evaluation.warn(currencyMismatch(discount, snapshot.currency, `subscription ${snapshot.id}`));
    return;
  }
  const weights = amounts.map((amount) => (Number.isNaN(amount) ? 0 : amount));
  let sum = 0;
  for (const weight of weights) sum += weight;
  const shares = allocateByLargestRemainder(Math.min(discount.amountOff ?? 0, sum), weights);
  for (let i = 0; i < amounts.length; i++) {
    const amount = amounts[i] as number;
    if (Number.isNaN(amount)) continue;
    const off = shares[i] ?? 0;
    amounts[i] = amount - off;
    traces?.[i]?.discountsApplied.push(applied(discount, level, off));
  }
}

function percentOff(amount: number, percent: number): number {
  return Math.min(roundHalfUp((amount * percent) / 100), amount);
}

function currencyMismatch(discount: Discount, currency: CurrencyCode, where: string): string {
  return `${where}: discount ${discount.id} takes amount_off in ${discount.amountOffCurrency ?? '?'} but bills in ${currency}; not applied`;
}

function applied(discount: Discount, level: DiscountLevel, amount: number): AppliedDiscount {
  const off =
    discount.percentOff !== null
      ? `${discount.percentOff}%`
      : `${discount.amountOff ?? 0} ${discount.amountOffCurrency ?? ''}`.trim();
  return { id: discount.id, couponId: discount.couponId, level, off, amount };
}

function licensedPeriodAmount(item: SubscriptionItem): number | null {
  return item.price.recurring?.usageType === 'metered' ? null : periodAmount(item.price, item.quantity);
}

function newTrace(item: SubscriptionItem, base: number | null, excludedReason: string | null): ItemTrace {
  return { item, periodAmount: base, discountsApplied: [], excludedReason, amountAfterDiscounts: 0, mrr: 0 };
}

function toItemMrr(trace: ItemTrace): ItemMrr {
  const { item } = trace;
  const recurring = item.price.recurring;
  const factor = recurring === null ? '' : monthlyFactorText(recurring.interval, recurring.intervalCount);
  return {
    itemId: item.id,
    priceId: item.price.id,
    quantity: item.quantity,
    interval: recurring?.interval ?? null,
    intervalCount: recurring?.intervalCount ?? null,
    periodAmount: trace.periodAmount,
    discountsApplied: trace.discountsApplied,
    periodAmountAfterDiscounts: trace.amountAfterDiscounts,
    factor,
    mrr: trace.mrr,
    rule: ruleText(trace, factor),
    excludedReason: trace.excludedReason,
  };
}

function ruleText(trace: ItemTrace, factor: string): string {
  if (trace.excludedReason !== null) return `${trace.excludedReason} → 0`;
  const { item } = trace;
  const recurring = item.price.recurring;
  const period = recurring === null ? '' : ` per ${recurring.intervalCount} ${recurring.interval}`;
  let text = `${describePeriodAmount(item.price, item.quantity)}${period}`;
  if (trace.discountsApplied.length > 0) {
    const discounts = trace.discountsApplied.map((d) => ` − ${d.off} (${d.level} discount ${d.id}) ${d.amount}`);
    text += `;${discounts.join(',')} = ${trace.amountAfterDiscounts}`;
  }
  return `${text}; ${factor} = ${trace.mrr}`;
}
