import type { z } from 'zod';
import { countryCode } from '../../domain/codes.js';
import { normalizeCurrency } from '../../domain/money/currency.js';
import type { StripeFact } from '../../domain/stripe/model.js';
import { fromUnixSeconds, type EpochMs } from '../../domain/time.js';
import { boundRule, outOfBounds, READABLE_BOUNDS } from '../event-time-bounds.js';
import { normalizeCustomer } from './normalize-customer.js';
import { normalizeDiscount } from './normalize-discount.js';
import { normalizeSubscription } from './normalize-subscription.js';
import { StripeParseError } from './parse-error.js';
import {
  chargeSchema,
  customerSchema,
  discountSchema,
  disputeSchema,
  eventEnvelopeSchema,
  expandable,
  idOf,
  invoiceSchema,
  paymentMethodSchema,
  subscriptionSchema,
} from './raw-schemas.js';

export interface StripeEventInfo {
  readonly id: string;
  readonly type: string;
  readonly created: EpochMs;
  readonly apiVersion: string | null;
  readonly livemode: boolean;
}

export type StripeEventParseResult =
  | { readonly ok: true; readonly ignored: false; readonly event: StripeEventInfo; readonly facts: StripeFact[] }
  | { readonly ok: true; readonly ignored: true; readonly reason: string; readonly event: StripeEventInfo }
  | { readonly ok: false; readonly error: StripeParseError };

type EventFamily = 'customer' | 'subscription' | 'discount' | 'invoice' | 'charge' | 'dispute' | 'payment_method';

const FAMILY_BY_TYPE: ReadonlyMap<string, EventFamily> = new Map<string, EventFamily>([
  ['customer.created', 'customer'],
  ['customer.updated', 'customer'],
  ['customer.deleted', 'customer'],
  ...[
    'created',
    'updated',
    'deleted',
    'paused',
    'resumed',
    'pending_update_applied',
    'pending_update_expired',
    'trial_will_end',
  ].map((action): [string, EventFamily] => [`customer.subscription.${action}`, 'subscription']),
  ['customer.discount.created', 'discount'],
  ['customer.discount.updated', 'discount'],
  ['customer.discount.deleted', 'discount'],
  ...['succeeded', 'failed', 'refunded', 'captured', 'updated', 'pending', 'expired'].map(
    (action): [string, EventFamily] => [`charge.${action}`, 'charge'],
  ),
  ...['attached', 'updated', 'automatically_updated', 'detached'].map((action): [string, EventFamily] => [
    `payment_method.${action}`,
    'payment_method',
  ]),
]);

/** The family of an event type we use, or null. invoice.upcoming is left out: its object has no id. */
export function stripeEventFamily(type: string): EventFamily | null {
  const family = FAMILY_BY_TYPE.get(type);
  if (family !== undefined) return family;
  if (type.startsWith('charge.dispute.')) return 'dispute';
  if (type.startsWith('invoice.') && type !== 'invoice.upcoming') return 'invoice';
  return null;
}

/**
 * Raw Stripe event JSON (any API version) → the normalised facts it carries. Never throws for bad input: an invalid
 * payload gives a StripeParseError naming the field; an event type we do not use is `ignored`.
 * Every fact's `at` is the event's `created`, which must lie between the epoch and the year 9999 (how far ahead of
 * its arrival it may be is the edge's rule: stripeCanonicalEvent).
 */
export function parseStripeEvent(raw: unknown): StripeEventParseResult {
  const envelope = eventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, error: StripeParseError.fromZod(envelope.error, []) };
  const { id, type } = envelope.data;
  const event: StripeEventInfo = {
    id,
    type,
    created: fromUnixSeconds(envelope.data.created),
    apiVersion: envelope.data.api_version ?? null,
    livemode: envelope.data.livemode ?? false,
  };
  const unreadable = outOfBounds(event.created, READABLE_BOUNDS);
  if (unreadable !== null) {
    const message = `event time ${boundRule(unreadable, READABLE_BOUNDS)}`;
    return {
      ok: false,
      error: new StripeParseError('invalid', 'created', message, [{ path: 'created', message }], id, type),
    };
  }
  const family = stripeEventFamily(type);
  if (family === null) return { ok: true, ignored: true, reason: `event type ${type} is not used`, event };

  const object: unknown = envelope.data.data.object;
  const previous: unknown = envelope.data.data.previous_attributes;
  const at = event.created;
  const base = { eventId: id, at };

  function parse<T extends z.ZodType>(schema: T, value: unknown, path: string[]): z.infer<T> | StripeParseError {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : StripeParseError.fromZod(parsed.error, path, id, type);
  }
  const objectPath = ['data', 'object'];
  const fail = (error: StripeParseError): StripeEventParseResult => ({ ok: false, error });
  const missingCustomer = (path: string, message: string): StripeEventParseResult =>
    fail(StripeParseError.missingCustomer(path, message, id, type));
  const done = (fact: StripeFact): StripeEventParseResult => ({ ok: true, ignored: false, event, facts: [fact] });

  switch (family) {
    case 'customer': {
      const customer = parse(customerSchema, object, objectPath);
      if (customer instanceof StripeParseError) return fail(customer);
      return done({ kind: 'customer', ...base, ...normalizeCustomer(customer, type === 'customer.deleted') });
    }
    case 'subscription': {
      const subscription = parse(subscriptionSchema, object, objectPath);
      if (subscription instanceof StripeParseError) return fail(subscription);
      const normalized = normalizeSubscription(subscription);
      return done({
        kind: 'subscription',
        ...base,
        customerId: normalized.subscription.customerId,
        subscription: normalized.subscription,
        deleted: type === 'customer.subscription.deleted',
        discounts: normalized.discounts,
      });
    }
    case 'discount': {
      const discount = parse(discountSchema, object, objectPath);
      if (discount instanceof StripeParseError) return fail(discount);
      const normalized = normalizeDiscount(discount, { customerId: null, subscriptionId: null });
      if (normalized.customerId === null) return missingCustomer('data.object.customer', 'discount has no customer');
      return done({
        kind: 'discount',
        ...base,
        customerId: normalized.customerId,
        discount: normalized,
        deleted: type === 'customer.discount.deleted',
      });
    }
    case 'invoice': {
      const invoice = parse(invoiceSchema, object, objectPath);
      if (invoice instanceof StripeParseError) return fail(invoice);
      const customerId = idOf(invoice.customer);
      if (customerId === null) return missingCustomer('data.object.customer', 'invoice has no customer');
      return done({
        kind: 'invoice',
        ...base,
        customerId,
        invoiceId: invoice.id,
        subscriptionId: idOf(invoice.parent?.subscription_details?.subscription) ?? idOf(invoice.subscription),
        status: invoice.status ?? null,
        paymentFailed: type === 'invoice.payment_failed',
        amountPaid: invoice.amount_paid,
        currency: normalizeCurrency(invoice.currency),
      });
    }
    case 'charge': {
      const charge = parse(chargeSchema, object, objectPath);
      if (charge instanceof StripeParseError) return fail(charge);
      const customerId = idOf(charge.customer);
      if (customerId === null) return missingCustomer('data.object.customer', 'charge has no customer');
      return done({
        kind: 'charge',
        ...base,
        customerId,
        chargeId: charge.id,
        status: charge.status,
        amount: charge.amount,
        amountRefunded: charge.amount_refunded ?? 0,
        currency: normalizeCurrency(charge.currency),
        cardCountry: countryCode(charge.payment_method_details?.card?.country),
        billingCountry: countryCode(charge.billing_details?.address?.country),
      });
    }
    case 'dispute': {
      const dispute = parse(disputeSchema, object, objectPath);
      if (dispute instanceof StripeParseError) return fail(dispute);
      const customerId = typeof dispute.charge === 'string' ? null : idOf(dispute.charge.customer);
      if (customerId === null) {
        return missingCustomer(
          'data.object.charge',
          typeof dispute.charge === 'string'
            ? `dispute carries charge ${dispute.charge} unexpanded: fetch the charge for its customer`
            : `the disputed charge ${dispute.charge.id} has no customer`,
        );
      }
      return done({
        kind: 'dispute',
        ...base,
        customerId,
        disputeId: dispute.id,
        chargeId: idOf(dispute.charge),
        status: dispute.status,
        amount: dispute.amount,
        currency: normalizeCurrency(dispute.currency),
      });
    }
    case 'payment_method': {
      const paymentMethod = parse(paymentMethodSchema, object, objectPath);
      if (paymentMethod instanceof StripeParseError) return fail(paymentMethod);
      let customerId = idOf(paymentMethod.customer);
      const detached = type === 'payment_method.detached';
      if (customerId === null && detached) {
        // On detach the object's customer is already null; the customer it left is in previous_attributes.
        const previousCustomer = parse(expandable.nullish(), previousCustomerOf(previous), [
          'data',
          'previous_attributes',
          'customer',
        ]);
        if (previousCustomer instanceof StripeParseError) return fail(previousCustomer);
        customerId = idOf(previousCustomer);
      }
      if (customerId === null) {
        return missingCustomer(
          detached ? 'data.previous_attributes.customer' : 'data.object.customer',
          'payment method has no customer',
        );
      }
      return done({
        kind: 'payment_method',
        ...base,
        customerId,
        paymentMethodId: paymentMethod.id,
        cardCountry: countryCode(paymentMethod.card?.country),
        billingCountry: countryCode(paymentMethod.billing_details?.address?.country),
        detached,
      });
    }
  }
}

function previousCustomerOf(previous: unknown): unknown {
  if (typeof previous !== 'object' || previous === null) return undefined;
  return (previous as { readonly customer?: unknown }).customer;
}
