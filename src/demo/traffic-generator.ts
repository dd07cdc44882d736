import { SeededRandom } from './random.js';

/**
 * Realistic, deterministic Stripe and Segment traffic for the demo and the benchmarks: customers who trial, pay,
 * upgrade, downgrade, fall into dunning, dispute and cancel; users who identify, buy, use features and go quiet.
 * Stripe events are rendered in the basil API shape (2025-03-31), Segment messages in the Tracking API shape.
 */
export interface GeneratedEvent {
  readonly source: 'stripe' | 'segment';
  /** Event time, epoch ms. */
  readonly at: number;
  readonly raw: Record<string, unknown>;
}

export interface TrafficOptions {
  readonly seed: number;
  readonly customers: number;
  readonly users: number;
  /** First instant of the simulated period, epoch ms. */
  readonly start: number;
  readonly months: number;
}

interface Plan {
  readonly id: string;
  readonly currency: string;
  readonly unitAmount: number;
  readonly interval: 'month' | 'year';
  readonly seats: readonly [number, number];
}

const PLANS: readonly (readonly [Plan, number])[] = [
  [{ id: 'price_starter_monthly', currency: 'usd', unitAmount: 4_900, interval: 'month', seats: [1, 3] }, 40],
  [{ id: 'price_growth_monthly', currency: 'usd', unitAmount: 29_000, interval: 'month', seats: [1, 10] }, 30],
  [{ id: 'price_growth_eur', currency: 'eur', unitAmount: 27_000, interval: 'month', seats: [1, 8] }, 10],
  [{ id: 'price_business_yearly', currency: 'usd', unitAmount: 1_800_000, interval: 'year', seats: [1, 5] }, 12],
  [{ id: 'price_enterprise_yearly', currency: 'usd', unitAmount: 14_400_000, interval: 'year', seats: [1, 3] }, 5],
  [{ id: 'price_jp_monthly', currency: 'jpy', unitAmount: 30_000, interval: 'month', seats: [1, 5] }, 3],
];

const COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', 40],
  ['CA', 6],
  ['GB', 10],
  ['DE', 8],
  ['FR', 5],
  ['NL', 3],
  ['BR', 5],
  ['MX', 4],
  ['AR', 2],
  ['JP', 4],
  ['AU', 4],
  ['IN', 4],
  ['SG', 2],
  ['ZA', 2],
  ['AE', 1],
];
const INDUSTRIES = ['SaaS', 'E-commerce', 'Agency', 'Fintech', 'Healthcare', 'Logistics', 'Education'] as const;
const USER_PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
const FEATURES = ['dashboard', 'route_optimizer', 'exports', 'alerts', 'api'] as const;

const DAY = 86_400_000;
const API_VERSION = '2025-03-31.basil';

export function generateTraffic(options: TrafficOptions): GeneratedEvent[] {
  const random = new SeededRandom(options.seed);
  const events: GeneratedEvent[] = [];
  const horizon = options.start + options.months * 30 * DAY;
  for (let i = 0; i < options.customers; i++) generateCustomer(random, i, options.start, horizon, events);
  for (let i = 0; i < options.users; i++) generateUser(random, i, options.start, horizon, events);
  // Interleave as a live system would see them: by event time (ties in a fixed order).
  return events.sort((a, b) => a.at - b.at);
}

function generateCustomer(
  random: SeededRandom,
  index: number,
  start: number,
  horizon: number,
  out: GeneratedEvent[],
): void {
  const customerId = `cus_${index.toString(36).padStart(6, '0')}${random.id(8)}`;
  const country = random.weighted(COUNTRIES);
  let t = start + random.int(0, Math.max(1, Math.floor((horizon - start) / 3)));
  let eventCounter = 0;
  const stripeEvent = (type: string, object: Record<string, unknown>, previous?: Record<string, unknown>) => {
    // The simulated period ends at the horizon: later steps of a lifecycle (a dispute's close) are not emitted.
    if (t > horizon) return;
    eventCounter++;
    const created = Math.floor(t / 1000);
    const data: Record<string, unknown> = { object };
    if (previous !== undefined) data['previous_attributes'] = previous;
    out.push({
      source: 'stripe',
      at: created * 1000,
      raw: {
        id: `evt_${customerId.slice(4)}${eventCounter.toString(36).padStart(3, '0')}`,
        object: 'event',
        api_version: API_VERSION,
        created,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
        data,
      },
    });
  };

  stripeEvent('customer.created', {
    id: customerId,
    object: 'customer',
    email: `buyer${index}@example.com`,
    name: `Customer ${index}`,
    currency: null,
    delinquent: false,
    address: { country },
    created: Math.floor(t / 1000),
  });

  t += random.int(60_000, 3_600_000);
  const paymentMethodId = `pm_${customerId.slice(4)}`;
  const paymentMethod = {
    id: paymentMethodId,
    object: 'payment_method',
    type: 'card',
    customer: customerId,
    card: { brand: 'visa', country, last4: '4242', exp_month: 12, exp_year: 2030 },
    billing_details: { address: { country } },
  };
  stripeEvent('payment_method.attached', paymentMethod);

  const plan = random.weighted(PLANS);
  let quantity = random.int(plan.seats[0], plan.seats[1]);
  const subscriptionId = `sub_${customerId.slice(4)}`;
  const trial = random.chance(0.3);
  let status = trial ? 'trialing' : 'active';
  let discounts: string[] = [];
  // Set once, when the subscription starts: Stripe keeps a trial's end on every later snapshot.
  const trialEnd = trial ? Math.floor((t + 14 * DAY) / 1000) : null;
  const periodMs = plan.interval === 'month' ? 30 * DAY : 365 * DAY;
  const subscription = (extra: Record<string, unknown> = {}) => ({
    id: subscriptionId,
    object: 'subscription',
    customer: customerId,
    status,
    currency: plan.currency,
    created: Math.floor(start / 1000),
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    pause_collection: null,
    trial_end: trialEnd,
    discounts,
    items: {
      object: 'list',
      data: [
        {
          id: `si_${customerId.slice(4)}`,
          object: 'subscription_item',
          quantity,
          current_period_start: Math.floor(t / 1000),
          current_period_end: Math.floor((t + periodMs) / 1000),
          discounts: [],
          price: {
            id: plan.id,
            object: 'price',
            currency: plan.currency,
            unit_amount: plan.unitAmount,
            unit_amount_decimal: String(plan.unitAmount),
            billing_scheme: 'per_unit',
            tiers_mode: null,
            transform_quantity: null,
            type: 'recurring',
            recurring: { interval: plan.interval, interval_count: 1, usage_type: 'licensed' },
          },
        },
      ],
    },
    ...extra,
  });
  stripeEvent('customer.subscription.created', subscription());

  const charge = (failed: boolean) => {
    const chargeId = `ch_${customerId.slice(4)}${eventCounter.toString(36)}`;
    stripeEvent(failed ? 'charge.failed' : 'charge.succeeded', {
      id: chargeId,
      object: 'charge',
      customer: customerId,
      amount: plan.unitAmount * quantity,
      amount_refunded: 0,
      currency: plan.currency,
      status: failed ? 'failed' : 'succeeded',
      paid: !failed,
      disputed: false,
      payment_method: paymentMethodId,
      payment_method_details: { type: 'card', card: { country, brand: 'visa', last4: '4242' } },
      billing_details: { address: { country } },
    });
    return chargeId;
  };

  if (trial) {
    t += 14 * DAY;
    if (random.chance(0.25)) {
      const previous = { status };
      status = 'incomplete_expired';
      stripeEvent(
        'customer.subscription.deleted',
        subscription({ status: 'canceled', ended_at: Math.floor(t / 1000) }),
        previous,
      );
      return;
    }
    const previous = { status };
    status = 'active';
    stripeEvent('customer.subscription.updated', subscription(), previous);
  }
  charge(false);

  while (t < horizon) {
    t += random.int(10, 45) * DAY;
    if (t >= horizon) break;
    const roll = random.next();
    if (roll < 0.25) {
      const previous = { items: 'changed' };
      quantity = Math.max(1, quantity + random.pick([-2, -1, 1, 1, 2, 3]));
      stripeEvent('customer.subscription.updated', subscription(), previous);
    } else if (roll < 0.35 && discounts.length === 0) {
      const discountId = `di_${customerId.slice(4)}`;
      discounts = [discountId];
      stripeEvent('customer.discount.created', {
        id: discountId,
        object: 'discount',
        customer: customerId,
        subscription: subscriptionId,
        subscription_item: null,
        start: Math.floor(t / 1000),
        end: Math.floor((t + 90 * DAY) / 1000),
        source: {
          type: 'coupon',
          coupon: {
            id: 'SPRING20',
            object: 'coupon',
            percent_off: 20,
            amount_off: null,
            currency: null,
            duration: 'repeating',
            duration_in_months: 3,
          },
        },
      });
      stripeEvent('customer.subscription.updated', subscription(), { discounts: [] });
    } else if (roll < 0.5) {
      // Dunning: a failed charge, past_due, then recovery or unpaid.
      charge(true);
      let previous = { status };
      status = 'past_due';
      stripeEvent('customer.subscription.updated', subscription(), previous);
      t += random.int(3, 20) * DAY;
      previous = { status };
      if (random.chance(0.7)) {
        charge(false);
        status = 'active';
      } else {
        status = 'unpaid';
      }
      stripeEvent('customer.subscription.updated', subscription(), previous);
      if (status === 'unpaid') return;
    } else if (roll < 0.55) {
      const disputeId = `dp_${customerId.slice(4)}${eventCounter.toString(36)}`;
      const chargeId = charge(false);
      t += random.int(5, 30) * DAY;
      const dispute = (disputeStatus: string) => ({
        id: disputeId,
        object: 'dispute',
        amount: plan.unitAmount,
        currency: plan.currency,
        status: disputeStatus,
        reason: 'product_not_received',
        charge: { id: chargeId, object: 'charge', customer: customerId },
      });
      stripeEvent('charge.dispute.created', dispute('needs_response'));
      t += random.int(7, 40) * DAY;
      stripeEvent('charge.dispute.closed', dispute(random.chance(0.6) ? 'won' : 'lost'));
    } else if (roll < 0.62) {
      stripeEvent('customer.subscription.updated', subscription({ cancel_at_period_end: true }), {
        cancel_at_period_end: false,
      });
      t += random.int(5, 30) * DAY;
      const previous = { status };
      status = 'canceled';
      stripeEvent(
        'customer.subscription.deleted',
        subscription({ cancel_at_period_end: true, ended_at: Math.floor(t / 1000) }),
        previous,
      );
      return;
    } else {
      charge(false);
    }
  }
}

function generateUser(
  random: SeededRandom,
  index: number,
  start: number,
  horizon: number,
  out: GeneratedEvent[],
): void {
  const anonymousId = `anon-${index.toString(36)}-${random.id(10)}`;
  const userId = random.chance(0.85) ? `u_${index.toString(36).padStart(6, '0')}` : null;
  const persona = random.weighted<'buyer' | 'browser' | 'churner'>([
    ['buyer', 45],
    ['browser', 35],
    ['churner', 20],
  ]);
  let t = start + random.int(0, Math.max(1, Math.floor((horizon - start) / 2)));
  let counter = 0;
  const message = (fields: Record<string, unknown>) => {
    counter++;
    const timestamp = new Date(t).toISOString();
    out.push({
      source: 'segment',
      at: t,
      raw: {
        messageId: `gen-${index.toString(36)}-${counter.toString(36)}`,
        anonymousId,
        ...(userId === null ? {} : { userId }),
        timestamp,
        context: { library: { name: '@segment/analytics-node', version: '2.2.0' } },
        ...fields,
      },
    });
  };

  message({
    type: 'identify',
    traits: {
      email: `user${index}@example.com`,
      plan: random.pick(USER_PLANS),
      industry: random.pick(INDUSTRIES),
      createdAt: new Date(t).toISOString(),
    },
  });
  const activeUntil = persona === 'churner' ? t + random.int(5, 40) * DAY : horizon;
  const cadenceDays = persona === 'buyer' ? 4 : persona === 'browser' ? 7 : 3;
  const nextActivity = () => t + random.int(1, cadenceDays * 2) * DAY + random.int(0, DAY - 1);
  for (t = nextActivity(); t < activeUntil && t < horizon; t = nextActivity()) {
    const roll = random.next();
    if (persona === 'buyer' && roll < 0.35) {
      const revenue = random.int(20, 600) + random.int(0, 99) / 100;
      message({
        type: 'track',
        event: 'Order Completed',
        properties: { order_id: `ord_${index.toString(36)}_${counter}`, revenue, currency: 'USD' },
      });
    } else if (roll < 0.6) {
      message({ type: 'track', event: 'Feature Used', properties: { feature: random.pick(FEATURES) } });
    } else if (roll < 0.85) {
      message({ type: 'page', name: 'Dashboard', properties: { path: '/dashboard' } });
    } else {
      message({ type: 'track', event: 'Signed In', properties: {} });
    }
  }
}
