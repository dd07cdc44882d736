import { minorToMajor } from '../money/currency.js';
import { customerLastEventAt, type CustomerState } from '../revenue/customer-state.js';
import {
  addressCountryOf,
  countDisputes,
  failedChargeCount,
  isCustomerDeleted,
  isDelinquent,
  lastChargeOf,
  paymentMethodCountry,
} from '../revenue/customer-words.js';
import { customerRevenue, type RevenueContext } from '../revenue/revenue-timeline.js';
import type { DisputeStatus } from '../stripe/model.js';
import type { EpochMs } from '../time.js';
import { profileKey, type FieldValue, type Profile } from './model.js';

export type RegionOf = (countryIso2: string) => string | null;

const OPEN_DISPUTE: ReadonlySet<DisputeStatus> = new Set([
  'needs_response',
  'under_review',
  'warning_needs_response',
  'warning_under_review',
  'appeal_needs_response',
  'appeal_under_review',
]);

/**
 * The customer's profile as of `at`. Its `fields` are what segment rules and summaries read:
 * `mrr` (major units of the reporting currency), `mrr_minor`, `reporting_currency`, `subscription_count`,
 * `revenue_status`, `scheduled_churn`, `past_due`, `metered`, `pause_collection`, `delinquent`, `customer_deleted`,
 * `country`, `region`, `email`, `name`, `disputes_open`, `disputes_lost`, `disputes_total`, `failed_payments`,
 * `last_movement`.
 */
export function deriveCustomerProfile(
  state: CustomerState,
  context: RevenueContext,
  regionOf: RegionOf,
  at: EpochMs,
): Profile {
  const revenue = customerRevenue(state, context, at);
  const country = customerCountry(state);
  const disputes = countDisputes(state.words, (status) => OPEN_DISPUTE.has(status));
  const fields: Record<string, FieldValue> = {
    mrr: minorToMajor(revenue.mrr, revenue.reportingCurrency),
    mrr_minor: revenue.mrr,
    reporting_currency: revenue.reportingCurrency,
    subscription_count: revenue.payingSubscriptions,
    revenue_status: revenue.status,
    scheduled_churn: revenue.flags.scheduledChurn,
    past_due: revenue.flags.pastDue,
    metered: revenue.flags.metered,
    pause_collection: revenue.flags.pauseCollection,
    delinquent: isDelinquent(state.words),
    customer_deleted: isCustomerDeleted(state.words),
    country,
    region: country === null ? null : regionOf(country),
    email: state.email,
    name: state.name,
    disputes_open: disputes.open,
    disputes_lost: disputes.lost,
    disputes_total: disputes.total,
    failed_payments: failedChargeCount(state.words),
    last_movement: revenue.lastMovement?.type ?? null,
  };
  return {
    key: profileKey('customer', state.customerId),
    kind: 'customer',
    entityId: state.customerId,
    asOf: at,
    lastEventAt: customerLastEventAt(state),
    revenue,
    fields,
  };
}

/**
 * Where the customer pays from: the card country of the newest attached payment method, else the newest successful
 * charge's card country, else a billing country, else the customer's address country (the parser upper-cases them).
 */
function customerCountry(state: CustomerState): string | null {
  const methodCountry = paymentMethodCountry(state.words);
  if (methodCountry !== null) return methodCountry;
  const charge = lastChargeOf(state.words);
  const chargeCountry = charge === null ? null : (charge.cardCountry ?? charge.billingCountry);
  if (chargeCountry !== null) return chargeCountry;
  return addressCountryOf(state.words);
}
