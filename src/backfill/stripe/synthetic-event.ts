import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../domain/traits/canonical-json.js';
import { StripeParseError } from '../../sources/stripe/index.js';

/** The Stripe objects a backfill lists, each turned into the event that would have announced its current state. */
export type StripeObjectKind = 'customer' | 'subscription' | 'invoice' | 'charge' | 'payment_method' | 'dispute';

export type SyntheticEventResult =
  | { readonly ok: true; readonly event: SyntheticStripeEvent; readonly text: string }
  | { readonly ok: false; readonly error: StripeParseError };

/** A Stripe event envelope as parseStripeEvent reads it (object: "event", Unix-second `created`). */
export interface SyntheticStripeEvent {
  readonly id: string;
  readonly object: 'event';
  readonly api_version: null;
  readonly created: number;
  readonly livemode: boolean;
  readonly pending_webhooks: 0;
  readonly request: { readonly id: null; readonly idempotency_key: null };
  readonly type: string;
  readonly data: { readonly object: Readonly<Record<string, unknown>> };
}

const timestamp = z.int().nullish();
const baseObject = z.looseObject({ id: z.string().min(1), created: z.int(), livemode: z.boolean().nullish() });

const subscriptionTimes = baseObject.extend({
  status: z.string().min(1),
  start_date: timestamp,
  canceled_at: timestamp,
  ended_at: timestamp,
  trial_start: timestamp,
  current_period_start: timestamp,
  items: z.looseObject({ data: z.array(z.looseObject({ current_period_start: timestamp })) }).nullish(),
});
const invoiceTimes = baseObject.extend({
  status: z.string().nullish(),
  status_transitions: z
    .looseObject({
      finalized_at: timestamp,
      paid_at: timestamp,
      voided_at: timestamp,
      marked_uncollectible_at: timestamp,
    })
    .nullish(),
});
const chargeFields = baseObject.extend({ status: z.string().min(1), amount_refunded: z.int().nullish() });
const disputeFields = baseObject.extend({
  status: z.string().min(1),
  charge: z.union([z.string().min(1), z.looseObject({ id: z.string().min(1), customer: z.unknown() })]),
});

const CLOSED_DISPUTE_STATUSES = new Set(['won', 'lost', 'warning_closed', 'prevented']);
const INVOICE_EVENT_BY_STATUS: Readonly<Record<string, string>> = {
  paid: 'invoice.paid',
  void: 'invoice.voided',
  uncollectible: 'invoice.marked_uncollectible',
  open: 'invoice.finalized',
};

/**
 * One listed Stripe object → the event a backfill publishes for it, deterministic in the object alone:
 * - `id` = `evt_backfill_<object id>_<16 hex of SHA-256 over the canonical JSON of the published object>`, so the
 *   same object state always gives the same id (a rerun publishes duplicates the processor drops) and a changed
 *   object gives a new one;
 * - `type` is the event Stripe sends for an object in that state (a canceled subscription → `.deleted`, a paid
 *   invoice → `invoice.paid`, …), so the domain reads it as that state's snapshot;
 * - `created` is the newest of the object's own past timestamps (creation, period start, cancellation, status
 *   transitions): live events after that moment still order after the snapshot.
 * Customers are published without their expanded `subscriptions` (those get their own events), and an expanded
 * dispute charge is cut down to `{id, object, customer}`, the part the pipeline reads.
 */
export function syntheticStripeEvent(kind: StripeObjectKind, raw: unknown): SyntheticEventResult {
  const described = describe(kind, raw);
  if (described instanceof StripeParseError) return { ok: false, error: described };
  const { object, type, created } = described;
  const event: SyntheticStripeEvent = {
    id: backfillEventId(object['id'] as string, object),
    object: 'event',
    api_version: null,
    created,
    livemode: object['livemode'] === true,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
  return { ok: true, event, text: JSON.stringify(event) };
}

/** `evt_backfill_<object id>_<hash of the object's canonical JSON>`. */
export function backfillEventId(objectId: string, object: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(object)).digest('hex').slice(0, 16);
  return `evt_backfill_${objectId}_${digest}`;
}

interface Described {
  readonly object: Readonly<Record<string, unknown>>;
  readonly type: string;
  readonly created: number;
}

function describe(kind: StripeObjectKind, raw: unknown): Described | StripeParseError {
  // Validated through zod, but the published object is the one Stripe sent (zod's output may reorder keys).
  const original = raw as Readonly<Record<string, unknown>>;
  switch (kind) {
    case 'customer': {
      const customer = parse(baseObject, raw);
      if (customer instanceof StripeParseError) return customer;
      const { subscriptions: _subscriptions, ...object } = original;
      return { object, type: 'customer.updated', created: customer.created };
    }
    case 'subscription': {
      const subscription = parse(subscriptionTimes, raw);
      if (subscription instanceof StripeParseError) return subscription;
      const itemStarts = (subscription.items?.data ?? []).map((item) => item.current_period_start);
      return {
        object: original,
        type: subscription.status === 'canceled' ? 'customer.subscription.deleted' : 'customer.subscription.updated',
        created: newest(subscription.created, [
          subscription.start_date,
          subscription.canceled_at,
          subscription.ended_at,
          subscription.trial_start,
          subscription.current_period_start,
          ...itemStarts,
        ]),
      };
    }
    case 'invoice': {
      const invoice = parse(invoiceTimes, raw);
      if (invoice instanceof StripeParseError) return invoice;
      const transitions = invoice.status_transitions;
      return {
        object: original,
        type: INVOICE_EVENT_BY_STATUS[invoice.status ?? ''] ?? 'invoice.created',
        created: newest(invoice.created, [
          transitions?.finalized_at,
          transitions?.paid_at,
          transitions?.voided_at,
          transitions?.marked_uncollectible_at,
        ]),
      };
    }
    case 'charge': {
      const charge = parse(chargeFields, raw);
      if (charge instanceof StripeParseError) return charge;
      const type = (charge.amount_refunded ?? 0) > 0 ? 'charge.refunded' : `charge.${charge.status}`;
      return { object: original, type, created: charge.created };
    }
    case 'payment_method': {
      const paymentMethod = parse(baseObject, raw);
      if (paymentMethod instanceof StripeParseError) return paymentMethod;
      return { object: original, type: 'payment_method.attached', created: paymentMethod.created };
    }
    case 'dispute': {
      const dispute = parse(disputeFields, raw);
      if (dispute instanceof StripeParseError) return dispute;
      const charge =
        typeof dispute.charge === 'string'
          ? dispute.charge
          : { id: dispute.charge.id, object: 'charge', customer: dispute.charge.customer ?? null };
      return {
        object: { ...original, charge },
        type: CLOSED_DISPUTE_STATUSES.has(dispute.status) ? 'charge.dispute.closed' : 'charge.dispute.updated',
        created: dispute.created,
      };
    }
  }
}

function parse<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> | StripeParseError {
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : StripeParseError.fromZod(parsed.error, []);
}

function newest(created: number, others: readonly (number | null | undefined)[]): number {
  let result = created;
  for (const value of others) if (typeof value === 'number' && value > result) result = value;
  return result;
}
