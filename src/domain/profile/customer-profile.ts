import { minorToMajor } from '../money/currency.js';
import type { CustomerState } from '../revenue/customer-state.js';
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
  let disputesOpen = 0;
  let disputesLost = 0;
  for (const dispute of state.disputes) {
    if (OPEN_DISPUTE.has(dispute.status)) disputesOpen++;
    else if (dispute.status === 'lost') disputesLost++;
  }
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
    delinquent: state.delinquent,
    customer_deleted: state.customerDeleted,
    country,
    region: country === null ? null : regionOf(country),
    email: state.email,
    name: state.name,
    disputes_open: disputesOpen,
    disputes_lost: disputesLost,
    disputes_total: state.disputes.length,
    failed_payments: state.failedCharges.length,
    last_movement: revenue.lastMovement?.type ?? null,
  };
  return {
    key: profileKey('customer', state.customerId),
    kind: 'customer',
    entityId: state.customerId,
    asOf: at,
    lastEventAt: state.lastEventAt,
    revenue,
    fields,
  };
}

/**
 * Where the customer pays from: the card country of the newest attached payment method, else the newest successful
 * charge's card country, else a billing country, else the customer's address country (the parser upper-cases them).
 */
function customerCountry(state: CustomerState): string | null {
  for (let i = state.paymentMethods.length - 1; i >= 0; i--) {
    const method = state.paymentMethods[i];
    if (method === undefined || method.detached) continue;
    const country = method.cardCountry ?? method.billingCountry;
    if (country !== null) return country;
  }
  const chargeCountry = state.lastChargeCardCountry ?? state.lastChargeBillingCountry;
  if (chargeCountry !== null) return chargeCountry;
  return state.addressCountry;
}
