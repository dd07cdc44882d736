import type Stripe from 'stripe';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import type { Logger } from '../../log/logger.js';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import { mapConcurrently } from '../concurrency.js';
import {
  CursorMismatchError,
  STRIPE_WALKS,
  type CursorFile,
  type StripeBackfillType,
  type StripeCursor,
  type StripeWalk,
} from '../cursor-file.js';
import type { ProgressReporter } from '../progress.js';
import { convertStripeEvent, type Conversion } from './canonical-conversion.js';
import { syntheticStripeEvent, type StripeObjectKind } from './synthetic-event.js';

export interface StripeBackfillDeps {
  readonly stripe: Stripe;
  readonly sink: EventSink;
  /** Full name of the stripe.events topic. */
  readonly topic: string;
  readonly cursorFile: CursorFile<StripeCursor>;
  readonly progress: ProgressReporter;
  readonly logger: Logger;
  /** Epoch milliseconds (the envelopes' received_at, the cursor's times). */
  readonly now: () => number;
  /** Stops the run between requests; the cursor keeps the last page the broker acknowledged. */
  readonly signal?: AbortSignal | undefined;
}

export interface StripeObjectBackfillOptions {
  readonly types: readonly StripeBackfillType[];
  /** `created[gte]` (Unix seconds) of every list; null: everything. */
  readonly since: number | null;
  /** Ignore (and overwrite) the object backfill recorded in the cursor file. */
  readonly restart: boolean;
  /** Objects per list page, 1–100. */
  readonly pageSize: number;
  /** Payment-method lists of one customer page fetched at once (all share the rate limit). */
  readonly concurrency: number;
}

export interface BackfillOutcome {
  /** `already_finished`: the cursor file says this backfill completed; nothing was read. */
  readonly status: 'finished' | 'already_finished';
  readonly published: number;
  /** Read but not publishable because nothing names a customer (guest charges), or of a type not used. */
  readonly skipped: number;
  /** Did not match what the pipeline reads (logged with the field). */
  readonly invalid: number;
}

interface Page {
  readonly data: readonly unknown[];
  readonly has_more: boolean;
}

const KIND_OF_WALK: Readonly<Record<Exclude<StripeWalk, 'customers'>, StripeObjectKind>> = {
  subscriptions: 'subscription',
  invoices: 'invoice',
  charges: 'charge',
  disputes: 'dispute',
};

/**
 * `backfill stripe`: pages through the Stripe list APIs (customers, subscriptions with status=all, invoices,
 * charges, payment methods per customer, disputes with their charge expanded) and publishes each object as the
 * synthetic event of its current state (see syntheticStripeEvent) on stripe.events. After each page the broker
 * acknowledged, the cursor file records the page's last object, so a killed run continues with the next page.
 *
 * Payment methods are listed per customer of each customer page, so customers are paged once. Customers are listed
 * with `subscriptions` expanded and those are published too, unless `subscriptions` is itself backfilled (its own
 * list is the complete one: the expansion stops at 10 per customer and omits canceled ones).
 */
export async function runStripeObjectBackfill(
  options: StripeObjectBackfillOptions,
  deps: StripeBackfillDeps,
): Promise<BackfillOutcome> {
  const { cursorFile, progress, logger, signal } = deps;
  const nowSeconds = () => Math.floor(deps.now() / 1000);
  const loaded = await cursorFile.load();
  let cursor: StripeCursor = loaded ?? { version: 1, source: 'stripe', objects: null, events: null };
  let objects = options.restart ? null : cursor.objects;
  if (objects !== null) {
    const recorded = [...objects.types].sort().join(',');
    const asked = [...options.types].sort().join(',');
    if (recorded !== asked) {
      throw new CursorMismatchError(cursorFile.path, `it holds a backfill of --types ${recorded}, not ${asked}`);
    }
    if (objects.since !== options.since) {
      throw new CursorMismatchError(cursorFile.path, `it holds a backfill with another --since`);
    }
    if (objects.finished_at !== null) {
      return { status: 'already_finished', published: 0, skipped: 0, invalid: 0 };
    }
  }
  objects ??= {
    types: [...options.types],
    since: options.since,
    started_at: nowSeconds(),
    finished_at: null,
    walks: {},
  };
  const save = async (): Promise<void> => {
    cursor = { ...cursor, objects };
    await cursorFile.save(cursor);
  };
  await save();

  const wanted = new Set(options.types);
  const embedSubscriptions = wanted.has('customers') && !wanted.has('subscriptions');
  const tally = { published: 0, skipped: 0, invalid: 0 };

  const convert = async (kind: StripeObjectKind, object: unknown, into: CanonicalEvent[]): Promise<void> => {
    const synthetic = syntheticStripeEvent(kind, object);
    const conversion: Conversion = synthetic.ok
      ? await convertStripeEvent(synthetic.text, synthetic.event, deps.now(), undefined)
      : { outcome: 'invalid', reason: synthetic.error.message };
    switch (conversion.outcome) {
      case 'event':
        into.push(conversion.event);
        return;
      case 'ignored':
      case 'no_customer':
        tally.skipped++;
        progress.skipped++;
        logger.debug({ kind, objectId: objectId(object) }, `not published: ${describeSkip(conversion)}`);
        return;
      case 'invalid':
        tally.invalid++;
        progress.skipped++;
        logger.warn({ kind, objectId: objectId(object) }, `invalid ${kind}, not published: ${conversion.reason}`);
        return;
    }
  };

  const customerPageEvents = async (customers: readonly unknown[]): Promise<CanonicalEvent[]> => {
    const perCustomer = await mapConcurrently(customers, options.concurrency, async (customer) => {
      const events: CanonicalEvent[] = [];
      if (wanted.has('customers')) await convert('customer', customer, events);
      if (embedSubscriptions) {
        const subscriptions = embeddedSubscriptions(customer);
        progress.objects += subscriptions.data.length;
        for (const subscription of subscriptions.data) await convert('subscription', subscription, events);
        if (subscriptions.hasMore) {
          logger.warn(
            { objectId: objectId(customer) },
            'customer has more subscriptions than Stripe expands: backfill --types subscriptions for all of them',
          );
        }
      }
      const id = objectId(customer);
      if (wanted.has('payment_methods') && id !== null) {
        for await (const paymentMethod of deps.stripe.customers.listPaymentMethods(id, { limit: 100 })) {
          signal?.throwIfAborted();
          progress.objects++;
          await convert('payment_method', paymentMethod, events);
        }
      }
      return events;
    });
    return perCustomer.flat();
  };

  for (const walk of STRIPE_WALKS) {
    const needed = walk === 'customers' ? wanted.has('customers') || wanted.has('payment_methods') : wanted.has(walk);
    const state = objects.walks[walk];
    if (!needed || state?.done === true) continue;
    progress.label = `backfill stripe (${walk})`;
    let startingAfter = state?.starting_after;
    for (;;) {
      signal?.throwIfAborted();
      const page = await listPage(deps.stripe, walk, {
        limit: options.pageSize,
        since: options.since,
        startingAfter,
        embedSubscriptions,
      });
      signal?.throwIfAborted();
      progress.pages++;
      progress.objects += page.data.length;
      let events: CanonicalEvent[];
      if (walk === 'customers') {
        events = await customerPageEvents(page.data);
      } else {
        events = [];
        for (const object of page.data) await convert(KIND_OF_WALK[walk], object, events);
      }
      signal?.throwIfAborted();
      await deps.sink.publish(deps.topic, events);
      tally.published += events.length;
      progress.published += events.length;
      const last = objectId(page.data.at(-1));
      const finished = !page.has_more || last === null;
      objects.walks[walk] = finished ? { done: true } : { done: false, starting_after: last };
      await save();
      if (finished) break;
      startingAfter = last;
    }
  }
  objects.finished_at = nowSeconds();
  await save();
  return { status: 'finished', ...tally };
}

interface ListRequest {
  readonly limit: number;
  readonly since: number | null;
  readonly startingAfter: string | undefined;
  readonly embedSubscriptions: boolean;
}

/** One page of a walk, through the SDK's list methods (which the shared paced HTTP client rate-limits). */
async function listPage(stripe: Stripe, walk: StripeWalk, request: ListRequest): Promise<Page> {
  const common = {
    limit: request.limit,
    ...(request.startingAfter === undefined ? {} : { starting_after: request.startingAfter }),
    ...(request.since === null ? {} : { created: { gte: request.since } }),
  };
  switch (walk) {
    case 'customers':
      return stripe.customers.list({
        ...common,
        ...(request.embedSubscriptions ? { expand: ['data.subscriptions'] } : {}),
      });
    case 'subscriptions':
      return stripe.subscriptions.list({ ...common, status: 'all' });
    case 'invoices':
      return stripe.invoices.list(common);
    case 'charges':
      return stripe.charges.list(common);
    case 'disputes':
      // Expanded so the dispute is keyed by the charge's customer without a request per dispute.
      return stripe.disputes.list({ ...common, expand: ['data.charge'] });
  }
}

function objectId(object: unknown): string | null {
  if (typeof object !== 'object' || object === null) return null;
  const id = (object as { readonly id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : null;
}

function embeddedSubscriptions(customer: unknown): { readonly data: readonly unknown[]; readonly hasMore: boolean } {
  const list = (customer as { readonly subscriptions?: unknown }).subscriptions;
  if (typeof list !== 'object' || list === null) return { data: [], hasMore: false };
  const { data, has_more: hasMore } = list as { readonly data?: unknown; readonly has_more?: unknown };
  return { data: Array.isArray(data) ? (data as unknown[]) : [], hasMore: hasMore === true };
}

function describeSkip(conversion: Conversion): string {
  return conversion.outcome === 'no_customer' ? conversion.reason : 'event type not used';
}
