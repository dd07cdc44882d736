import { convertMinor, type CurrencyCode, type FxRates } from '../money/currency.js';
import type { CustomerRevenue, MovementType } from '../profile/model.js';
import type { Discount, SubscriptionSnapshot } from '../stripe/model.js';
import type { EpochMs } from '../time.js';
import { unpackBody } from './subscription-body.js';
import {
  discountLookup,
  isTruncated,
  bodiesStart,
  versionAt,
  versionBodyOffset,
  versionCount,
  versionIsDeletion,
  type CustomerState,
  type SubscriptionHistory,
  subscriptionsOf,
} from './customer-state.js';

/** What the MRR rules say about one subscription snapshot at one instant (see src/domain/stripe). */
export interface SubscriptionValue {
  readonly currency: CurrencyCode;
  /** Minor units of `currency`; 0 when the subscription does not count. */
  readonly total: number;
  /** The next instant after `at` at which the value changes with no new event (a discount ending), if any. */
  readonly nextBreakpoint: EpochMs | null;
  readonly flags: {
    readonly metered: boolean;
    readonly scheduledChurn: boolean;
    readonly pastDue: boolean;
    readonly pauseCollection: boolean;
  };
}

export type SubscriptionValuer = (
  snapshot: SubscriptionSnapshot,
  discounts: (id: string) => Discount | undefined,
  at: EpochMs,
) => SubscriptionValue;

export interface RevenueContext {
  readonly reportingCurrency: CurrencyCode;
  readonly fxRates: FxRates;
  readonly valueSubscription: SubscriptionValuer;
}

interface Cursor {
  readonly history: SubscriptionHistory;
  /** Bodies decoded so far during this evaluation, by body offset. */
  readonly decoded: Map<number, SubscriptionSnapshot>;
  /** Index of the version in force at the current step, -1 before the first. */
  index: number;
  value: SubscriptionValue | null;
}

const NO_FLAGS: SubscriptionValue['flags'] = {
  metered: false,
  scheduledChurn: false,
  pastDue: false,
  pauseCollection: false,
};

/**
 * The customer's revenue as of `at`: current MRR and the movements that led to it.
 *
 * Movements are a function of the set of facts, not of their arrival order: the subscription versions are replayed
 * in event-time order, together with the instants at which a discount ends, and every change of the customer's total
 * (in the reporting currency, at the configured rates) is classified: 0 → >0 is new business the first time and
 * reactivation afterwards; >0 → 0 is churn; otherwise expansion or contraction. Changes at the same instant are one
 * movement. Exchange rates are applied to every point of the history alike, so a rate change creates no movement.
 */
export function customerRevenue(state: CustomerState, context: RevenueContext, at: EpochMs): CustomerRevenue {
  const lookup = discountLookup(state);
  const histories = subscriptionsOf(state);
  const cursors: Cursor[] = histories.map((history) => ({
    history,
    decoded: new Map(),
    index: -1,
    value: null,
  }));
  const baselineUntil = truncationBaseline(histories);

  const movements: Record<MovementType, number> = { new: 0, expansion: 0, contraction: 0, churn: 0, reactivation: 0 };
  let lastMovement: CustomerRevenue['lastMovement'] = null;
  let previousTotal = 0;
  let everPaid = false;
  let byCurrency: Record<CurrencyCode, number> = {};
  let unconverted: CurrencyCode[] = [];

  let step = nextStep(cursors, Number.NEGATIVE_INFINITY, at);
  while (step !== null) {
    const t = step;
    byCurrency = {};
    for (const cursor of cursors) {
      advanceCursor(cursor, t);
      if (cursor.index < 0 || versionIsDeletion(cursor.history, cursor.index)) {
        cursor.value = null;
        continue;
      }
      const value = context.valueSubscription(snapshotOf(cursor, state.customerId), lookup, t);
      cursor.value = value;
      if (value.total !== 0) byCurrency[value.currency] = (byCurrency[value.currency] ?? 0) + value.total;
    }
    const converted = toReporting(byCurrency, context);
    unconverted = converted.unconverted;
    const total = converted.total;
    if (t <= baselineUntil) {
      everPaid ||= total > 0;
    } else if (total !== previousTotal) {
      const type = classify(previousTotal, total, everPaid);
      const amount = Math.abs(total - previousTotal);
      movements[type] += amount;
      lastMovement = { type, amount, at: t };
      everPaid ||= total > 0;
    }
    previousTotal = total;
    step = nextStep(cursors, t, at);
  }

  let payingSubscriptions = 0;
  let flags = NO_FLAGS;
  for (const cursor of cursors) {
    const value = cursor.value;
    if (value === null) continue;
    if (value.total > 0) payingSubscriptions++;
    flags = mergeFlags(flags, value.flags);
  }
  return {
    reportingCurrency: context.reportingCurrency,
    mrr: previousTotal,
    mrrByCurrency: byCurrency,
    movements,
    lastMovement,
    status: previousTotal > 0 ? 'active' : everPaid ? 'churned' : 'lead',
    payingSubscriptions,
    flags,
    unconvertedCurrencies: unconverted,
  };
}

function snapshotOf(cursor: Cursor, customerId: string): SubscriptionSnapshot {
  const bodyOffset = versionBodyOffset(cursor.history, cursor.index);
  let snapshot = cursor.decoded.get(bodyOffset);
  if (snapshot === undefined) {
    const history = cursor.history;
    snapshot = unpackBody(history.words, bodiesStart(history) + bodyOffset, history.refs, history.id, customerId);
    cursor.decoded.set(bodyOffset, snapshot);
  }
  return snapshot;
}

function classify(previous: number, next: number, everPaid: boolean): MovementType {
  if (previous === 0) return everPaid ? 'reactivation' : 'new';
  if (next === 0) return 'churn';
  return next > previous ? 'expansion' : 'contraction';
}

/** Moves the cursor to the last version at or before `t`. */
function advanceCursor(cursor: Cursor, t: EpochMs): void {
  const count = versionCount(cursor.history);
  while (cursor.index + 1 < count && versionAt(cursor.history, cursor.index + 1) <= t) cursor.index++;
}

/** The next instant after `after` (and not after `until`) at which some subscription's value may change. */
function nextStep(cursors: readonly Cursor[], after: EpochMs, until: EpochMs): EpochMs | null {
  let next = Number.POSITIVE_INFINITY;
  for (const cursor of cursors) {
    if (cursor.index + 1 < versionCount(cursor.history)) {
      const upcoming = versionAt(cursor.history, cursor.index + 1);
      if (upcoming > after && upcoming < next) next = upcoming;
    }
    const breakpoint = cursor.value?.nextBreakpoint ?? null;
    if (breakpoint !== null && breakpoint > after && breakpoint < next) next = breakpoint;
  }
  return next <= until ? next : null;
}

/** Up to when the history is a baseline rather than movements: the oldest kept version of any truncated history. */
function truncationBaseline(histories: readonly SubscriptionHistory[]): EpochMs {
  let baseline = Number.NEGATIVE_INFINITY;
  for (const history of histories) {
    if (isTruncated(history) && versionCount(history) > 0 && versionAt(history, 0) > baseline) {
      baseline = versionAt(history, 0);
    }
  }
  return baseline;
}

function toReporting(
  byCurrency: Readonly<Record<CurrencyCode, number>>,
  context: RevenueContext,
): { total: number; unconverted: CurrencyCode[] } {
  let total = 0;
  const unconverted: CurrencyCode[] = [];
  for (const currency of Object.keys(byCurrency).sort()) {
    const amount = byCurrency[currency] ?? 0;
    if (currency !== context.reportingCurrency && context.fxRates[currency] === undefined) {
      unconverted.push(currency);
      continue;
    }
    total += convertMinor(amount, currency, context.reportingCurrency, context.fxRates);
  }
  return { total, unconverted };
}

function mergeFlags(a: SubscriptionValue['flags'], b: SubscriptionValue['flags']): SubscriptionValue['flags'] {
  return {
    metered: a.metered || b.metered,
    scheduledChurn: a.scheduledChurn || b.scheduledChurn,
    pastDue: a.pastDue || b.pastDue,
    pauseCollection: a.pauseCollection || b.pauseCollection,
  };
}
