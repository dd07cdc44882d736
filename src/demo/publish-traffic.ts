import { EventPublisher } from '../adapters/kafka/event-publisher.js';
import type { CanonicalEvent } from '../records/canonical-event.js';
import type { Runtime } from '../roles/runtime.js';
import { segmentCanonicalEvents, stripeCanonicalEvent } from '../sources/canonical-events.js';
import type { GeneratedEvent } from './traffic-generator.js';

/** A generated event the connectors' conversion refused: a generator bug, never published. */
export class GeneratedEventRejectedError extends Error {
  constructor(
    readonly index: number,
    readonly reasons: readonly string[],
  ) {
    super(`generated event #${String(index)} is not valid: ${reasons.join('; ')}`);
    this.name = 'GeneratedEventRejectedError';
  }
}

export interface CanonicalTraffic {
  /** In the order of the traffic (event time). */
  readonly events: readonly CanonicalEvent[];
  /** Generated events the pipeline does not use (nothing to publish). */
  readonly ignored: number;
}

/**
 * Generated traffic as the connectors would publish it: canonical envelopes, received at their own event time, so
 * the same options always give byte-identical records (event ids are the generator's Stripe ids and messageIds).
 */
export function canonicalTraffic(traffic: readonly GeneratedEvent[]): CanonicalTraffic {
  const events: CanonicalEvent[] = [];
  let ignored = 0;
  traffic.forEach((event, index) => {
    const text = JSON.stringify(event.raw);
    const result =
      event.source === 'stripe' ? stripeCanonicalEvent(text, event.at) : segmentCanonicalEvents(text, event.at);
    if (!result.ok) {
      throw new GeneratedEventRejectedError(
        index,
        result.errors.map((error) => error.message),
      );
    }
    if (result.events.length === 0) ignored += 1;
    events.push(...result.events);
  });
  return { events, ignored };
}

export interface PublishedCounts {
  readonly stripe: number;
  readonly segment: number;
  readonly ignored: number;
}

/**
 * Publishes generated traffic straight to the event topics (the compose `seed` service: a running pipeline's
 * processor picks it up) with the runtime's serde, keyed by entity, acknowledged by every in-sync replica. Deterministic
 * ids make a rerun a no-op for the processor, which deduplicates by event id.
 */
export async function publishTraffic(
  runtime: Runtime,
  traffic: readonly GeneratedEvent[],
  onProgress: (published: number) => void = () => undefined,
  chunk = 1_000,
): Promise<PublishedCounts> {
  const { events, ignored } = canonicalTraffic(traffic);
  const publisher = new EventPublisher(runtime.kafka, runtime.serdes.event, {
    timeoutMs: 30_000,
    idempotent: runtime.env.kafka.idempotent,
  });
  await publisher.connect();
  const counts = { stripe: 0, segment: 0 };
  try {
    // Chunk by chunk in event time, as the connectors would have published them.
    for (let start = 0; start < events.length; start += chunk) {
      const slice = events.slice(start, start + chunk);
      const stripe = slice.filter((event) => event.source === 'stripe');
      const segment = slice.filter((event) => event.source === 'segment');
      await publisher.publish(runtime.topics.stripeEvents, stripe);
      await publisher.publish(runtime.topics.segmentEvents, segment);
      counts.stripe += stripe.length;
      counts.segment += segment.length;
      onProgress(counts.stripe + counts.segment);
    }
  } finally {
    await publisher.disconnect();
  }
  return { ...counts, ignored };
}
