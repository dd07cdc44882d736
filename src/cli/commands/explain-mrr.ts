import { minorToMajor, minorUnitExponent, type CurrencyCode } from '../../domain/money/currency.js';
import { discountTable } from '../../domain/stripe/discount-lookup.js';
import type { Discount } from '../../domain/stripe/model.js';
import { explainSubscriptionMrr, type SubscriptionMrrExplanation } from '../../domain/stripe/subscription-mrr.js';
import type { EpochMs } from '../../domain/time.js';
import { StripeParseError } from '../../sources/stripe/parse-error.js';
import {
  parseCustomerWithSubscriptions,
  parseSubscriptionObject,
  type ParsedSubscription,
  type StripeObjectParseResult,
} from '../../sources/stripe/parse-objects.js';

export interface ExplainMrrOptions {
  /** The instant the MRR is evaluated at (discount activity depends on it). */
  readonly at: EpochMs;
}

export interface CurrencyTotal {
  readonly currency: CurrencyCode;
  /** Minor units. */
  readonly mrr: number;
}

export interface ExplainMrrReport {
  readonly at: EpochMs;
  readonly atIso: string;
  /** Set when the input was a customer (or a list of one customer's subscriptions). */
  readonly customerIds: readonly string[];
  readonly subscriptions: readonly SubscriptionMrrExplanation[];
  /** Per original currency, sorted by code; no FX conversion here. */
  readonly totals: readonly CurrencyTotal[];
  /** Input-level warnings (e.g. a customer's subscription list was truncated); per-subscription ones are inside. */
  readonly warnings: readonly string[];
}

/**
 * The MRR of a Stripe subscription, a customer with expanded `subscriptions`, or a list (`{object: 'list', data}`)
 * of either, at `options.at`, with the rule applied to each item. Pure. Discounts are those embedded in the input
 * (pre-basil `discount`, expanded `discounts`, the customer's `discount`); a discount given only by id is reported
 * unresolved. Throws a StripeParseError naming the field when the input is not one of those shapes.
 */
export function explainMrr(input: unknown, options: ExplainMrrOptions): ExplainMrrReport {
  const elements = isList(input) ? input.data : [input];
  const listed = isList(input);
  const parsedSubscriptions: { snapshot: ParsedSubscription; customerDiscountId: string | null }[] = [];
  const customerIds: string[] = [];
  const discounts: Discount[] = [];
  const warnings: string[] = [];

  elements.forEach((element, index) => {
    const prefix = listed ? `data.${index}` : '';
    if (looksLikeCustomer(element)) {
      const customer = unwrap(parseCustomerWithSubscriptions(element), prefix);
      customerIds.push(customer.customerId);
      discounts.push(...customer.discounts);
      if (!customer.subscriptionsComplete) {
        warnings.push(
          `customer ${customer.customerId}: subscriptions.has_more is true, only the embedded ones are counted`,
        );
      }
      for (const subscription of customer.subscriptions) {
        parsedSubscriptions.push({ snapshot: subscription, customerDiscountId: customer.discount?.id ?? null });
      }
      return;
    }
    const subscription = unwrap(parseSubscriptionObject(element), prefix);
    discounts.push(...subscription.discounts);
    parsedSubscriptions.push({ snapshot: subscription, customerDiscountId: null });
  });

  const table = discountTable(discounts);
  const subscriptions = parsedSubscriptions.map(({ snapshot, customerDiscountId }) =>
    explainSubscriptionMrr(snapshot.subscription, table, options.at, customerDiscountId),
  );
  if (customerIds.length === 0) {
    for (const subscription of subscriptions) {
      if (!customerIds.includes(subscription.customerId)) customerIds.push(subscription.customerId);
    }
  }
  return {
    at: options.at,
    atIso: new Date(options.at).toISOString(),
    customerIds,
    subscriptions,
    totals: totalsByCurrency(subscriptions),
    warnings,
  };
}

/** Human-readable report: per subscription and item the rule applied, MRR in minor and major units, totals. */
export function formatExplainMrrText(report: ExplainMrrReport): string {
  const lines: string[] = [];
  const who = report.customerIds.length > 0 ? ` for customer ${report.customerIds.join(', ')}` : '';
  lines.push(`MRR at ${report.atIso}${who}`);
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  if (report.subscriptions.length === 0) lines.push('(no subscriptions)');

  for (const subscription of report.subscriptions) {
    const { currency } = subscription;
    lines.push('');
    lines.push(`subscription ${subscription.subscriptionId} (${currency}): ${money(subscription.total, currency)}`);
    lines.push(`  counted: ${subscription.counted ? 'yes' : `no (${subscription.reason ?? 'not counted'})`}`);
    const flags = Object.entries(subscription.flags)
      .filter(([, on]) => on)
      .map(([name]) => FLAG_LABELS[name] ?? name);
    if (flags.length > 0) lines.push(`  flags: ${flags.join(', ')}`);
    for (const item of subscription.items) {
      const every = item.interval === null ? 'one-time' : `every ${item.intervalCount ?? 1} ${item.interval}`;
      lines.push(`  item ${item.itemId}: price ${item.priceId}, qty ${item.quantity}, ${every}`);
      lines.push(`    rule: ${item.rule}`);
      for (const discount of item.discountsApplied) {
        lines.push(
          `    discount ${discount.id} (coupon ${discount.couponId}, ${discount.level}): ${discount.off} → −${discount.amount}`,
        );
      }
      lines.push(`    MRR: ${money(item.mrr, currency)}`);
    }
    if (subscription.nextBreakpoint !== null) {
      lines.push(`  changes at: ${new Date(subscription.nextBreakpoint).toISOString()} (a discount ends or starts)`);
    }
    for (const warning of subscription.warnings) lines.push(`  warning: ${warning}`);
  }

  lines.push('');
  for (const total of report.totals) lines.push(`total ${total.currency}: ${money(total.mrr, total.currency)}`);
  return `${lines.join('\n')}\n`;
}

const FLAG_LABELS: Readonly<Record<string, string>> = {
  metered: 'metered items excluded',
  scheduledChurn: 'scheduled churn (cancels at period end)',
  pastDue: 'past due',
  pauseCollection: 'collection paused',
};

function money(minor: number, currency: CurrencyCode): string {
  const major = minorToMajor(minor, currency).toFixed(minorUnitExponent(currency));
  return `${minor} minor units = ${major} ${currency.toUpperCase()}`;
}

function totalsByCurrency(subscriptions: readonly SubscriptionMrrExplanation[]): CurrencyTotal[] {
  const totals = new Map<CurrencyCode, number>();
  for (const subscription of subscriptions) {
    totals.set(subscription.currency, (totals.get(subscription.currency) ?? 0) + subscription.total);
  }
  return [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, mrr]) => ({ currency, mrr }));
}

function isList(input: unknown): input is { readonly object: 'list'; readonly data: readonly unknown[] } {
  return (
    typeof input === 'object' &&
    input !== null &&
    (input as { object?: unknown }).object === 'list' &&
    Array.isArray((input as { data?: unknown }).data)
  );
}

function looksLikeCustomer(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false;
  const record = input as { object?: unknown; subscriptions?: unknown };
  return record.object === 'customer' || (record.object === undefined && record.subscriptions !== undefined);
}

function unwrap<T>(result: StripeObjectParseResult<T>, prefix: string): T {
  if (result.ok) return result.value;
  if (prefix === '') throw result.error;
  const { error } = result;
  const prefixed = (path: string): string => (path === '' ? prefix : `${prefix}.${path}`);
  throw new StripeParseError(
    error.code,
    prefixed(error.path),
    error.issues[0]?.message ?? error.message,
    error.issues.map((issue) => ({ path: prefixed(issue.path), message: issue.message })),
  );
}
