import type { ChargeCustomerResolver } from '../../connectors/stripe/charge-customer-resolver.js';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import { CursorMismatchError, type StripeCursor } from '../cursor-file.js';
import { convertStripeEvent } from './canonical-conversion.js';
import type { BackfillOutcome, StripeBackfillDeps } from './stripe-object-backfill.js';

/** Stripe lists and retrieves events of the last 30 days only (reference §2.5). */
export const STRIPE_EVENT_RETENTION_SECONDS = 30 * 86_400;

export interface StripeEventCatchUpOptions {
  /** `created[gte]` (Unix seconds); null: from the cursor file (else the whole 30-day window). */
  readonly since: number | null;
  /** Ignore what the cursor file says about earlier catch-ups. */
  readonly restart: boolean;
  readonly pageSize: number;
  /** Re-keys disputes whose charge is only an id (they arrive that way from /v1/events). */
  readonly chargeCustomers: ChargeCustomerResolver | undefined;
}

export interface CatchUpOutcome extends BackfillOutcome {
  /** The `created[gte]` the run listed from (Unix seconds), null for the whole window. */
  readonly createdGte: number | null;
}

/**
 * `backfill stripe --events`: what the webhooks missed while we were down. Lists /v1/events from `created[gte]` =
 * --since, else the newest event a previous catch-up published, else the start of the last object backfill, and
 * publishes every event verbatim (real event ids: whatever was already delivered by webhook is a duplicate the
 * processor drops). `gte` rather than `gt`: `created` has one-second resolution, and events of that same second
 * may not all have been seen; re-publishing them is harmless.
 *
 * Events come newest first, so the watermark moves only when a run has listed everything; until then the cursor
 * holds the run's `created[gte]` and its last page, and a restarted run continues that page walk.
 */
export async function runStripeEventCatchUp(
  options: StripeEventCatchUpOptions,
  deps: StripeBackfillDeps,
): Promise<CatchUpOutcome> {
  const { cursorFile, progress, logger, signal } = deps;
  const nowSeconds = Math.floor(deps.now() / 1000);
  let cursor: StripeCursor = (await cursorFile.load()) ?? { version: 1, source: 'stripe', objects: null, events: null };
  const previous = options.restart ? null : cursor.events;
  let run = previous?.run ?? null;
  if (run !== null && options.since !== null && run.created_gte !== options.since) {
    throw new CursorMismatchError(cursorFile.path, 'it holds an unfinished catch-up from another --since');
  }
  run ??= {
    created_gte: options.since ?? previous?.published_through ?? cursor.objects?.started_at ?? null,
    starting_after: null,
    newest: null,
  };
  const publishedThrough = previous?.published_through ?? null;
  const save = async (): Promise<void> => {
    cursor = { ...cursor, events: { published_through: publishedThrough, run } };
    await cursorFile.save(cursor);
  };
  await save();

  const createdGte = run.created_gte;
  const windowStart = nowSeconds - STRIPE_EVENT_RETENTION_SECONDS;
  if (createdGte !== null && createdGte < windowStart) {
    logger.warn(
      { createdGte, windowStart },
      'Stripe keeps events for 30 days only: older ones are gone; run `backfill stripe` (objects) to rebuild state',
    );
  }
  progress.label = 'backfill stripe (events)';
  const tally = { published: 0, skipped: 0, invalid: 0 };
  for (;;) {
    signal?.throwIfAborted();
    const page = await deps.stripe.events.list({
      limit: options.pageSize,
      ...(createdGte === null ? {} : { created: { gte: createdGte } }),
      ...(run.starting_after === null ? {} : { starting_after: run.starting_after }),
    });
    signal?.throwIfAborted();
    progress.pages++;
    progress.objects += page.data.length;
    const events: CanonicalEvent[] = [];
    let newest: number | null = run.newest;
    for (const event of page.data) {
      if (newest === null || event.created > newest) newest = event.created;
      const conversion = await convertStripeEvent(JSON.stringify(event), event, deps.now(), options.chargeCustomers);
      switch (conversion.outcome) {
        case 'event':
          events.push(conversion.event);
          break;
        case 'ignored':
          tally.skipped++;
          progress.skipped++;
          break;
        case 'no_customer':
          tally.skipped++;
          progress.skipped++;
          logger.warn({ eventId: event.id, type: event.type }, `event not published: ${conversion.reason}`);
          break;
        case 'invalid':
          tally.invalid++;
          progress.skipped++;
          logger.warn({ eventId: event.id, type: event.type }, `invalid event, not published: ${conversion.reason}`);
          break;
      }
    }
    signal?.throwIfAborted();
    await deps.sink.publish(deps.topic, events);
    tally.published += events.length;
    progress.published += events.length;
    const last = page.data.at(-1)?.id ?? null;
    run = { created_gte: createdGte, starting_after: last ?? run.starting_after, newest };
    if (!page.has_more || last === null) break;
    await save();
  }
  cursor = {
    ...cursor,
    events: { published_through: maxOrNull(publishedThrough, run.newest), run: null },
  };
  await cursorFile.save(cursor);
  return { status: 'finished', createdGte, ...tally };
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
