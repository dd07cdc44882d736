import Stripe from 'stripe';

/**
 * How the resolver learns a charge's customer: `{customerId}` (null when the charge has no customer), or null when
 * Stripe has no such charge. Throws ChargeLookupError when the answer could not be had (network, 5xx, 429).
 */
export type ChargeLookup = (chargeId: string) => Promise<{ readonly customerId: string | null } | null>;

/** The charge could not be fetched right now: the webhook answers 503 so Stripe delivers it again later. */
export class ChargeLookupError extends Error {
  constructor(
    readonly chargeId: string,
    options: { cause: unknown },
  ) {
    super(
      `could not fetch charge ${chargeId}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`,
      options,
    );
    this.name = 'ChargeLookupError';
  }
}

export const DEFAULT_CHARGE_CACHE_SIZE = 10_000;

/**
 * Learns the customer of a disputed charge, so a `charge.dispute.*` event whose `charge` is only an id can be keyed
 * by customer. A charge's customer never changes, so answers are kept in a small LRU cache (a dispute's
 * created/updated/closed events and a catch-up's pages ask for the same charge again); a charge Stripe does not
 * know is not cached.
 */
export class ChargeCustomerResolver {
  private readonly cache = new Map<string, string | null>();

  constructor(
    private readonly lookup: ChargeLookup,
    readonly capacity = DEFAULT_CHARGE_CACHE_SIZE,
  ) {}

  /** The charge's customer id; null when it has none or does not exist. Throws ChargeLookupError. */
  async customerOf(chargeId: string): Promise<string | null> {
    const cached = this.cache.get(chargeId);
    if (cached !== undefined) {
      this.cache.delete(chargeId);
      this.cache.set(chargeId, cached);
      return cached;
    }
    const found = await this.lookup(chargeId);
    if (found === null) return null;
    this.cache.set(chargeId, found.customerId);
    if (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    return found.customerId;
  }
}

/** `stripe.charges.retrieve` as a ChargeLookup: 404 → null, any other failure → ChargeLookupError. */
export function stripeChargeLookup(stripe: Stripe): ChargeLookup {
  return async (chargeId) => {
    try {
      const charge = await stripe.charges.retrieve(chargeId);
      const customer = charge.customer;
      return { customerId: customer === null ? null : typeof customer === 'string' ? customer : customer.id };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) return null;
      throw new ChargeLookupError(chargeId, { cause: error });
    }
  };
}

/** The charge id of a `charge.dispute.*` event whose `data.object.charge` is not expanded, else null. */
export function unexpandedDisputeCharge(raw: unknown): string | null {
  if (!isRecord(raw) || typeof raw['type'] !== 'string' || !raw['type'].startsWith('charge.dispute.')) return null;
  const data = raw['data'];
  const object = isRecord(data) ? data['object'] : undefined;
  const charge = isRecord(object) ? object['charge'] : undefined;
  return typeof charge === 'string' && charge !== '' ? charge : null;
}

/**
 * The dispute event re-keyed: `data.object.charge` expanded to `{id, object: "charge", customer}` — the shape
 * `expand[]=data.object.charge` gives, cut to the part the pipeline reads — as JSON text. The processor parses the
 * published payload again on every replay, so the customer has to live in the payload, not beside it.
 */
export function withDisputeChargeCustomer(raw: Readonly<Record<string, unknown>>, customerId: string): string {
  const data = raw['data'] as Readonly<Record<string, unknown>>;
  const object = data['object'] as Readonly<Record<string, unknown>>;
  const charge = { id: object['charge'], object: 'charge', customer: customerId };
  return JSON.stringify({ ...raw, data: { ...data, object: { ...object, charge } } });
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
