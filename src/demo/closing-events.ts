import { keysForEveryPartition } from '../adapters/kafka/partition-keys.js';
import type { GeneratedEvent } from './traffic-generator.js';

/** Synthetic customers that exist only to carry the closing events: no subscription, so in no segment. */
export const CLOCK_CUSTOMER_PREFIX = 'cus_democlock';

/**
 * The instant the demo's profiles are judged at: the start of a refresh period (PROCESSOR_REFRESH_INTERVAL_MS) after
 * the one holding the newest generated event, so the processor re-derives every untouched entity there.
 */
export function closingInstant(traffic: readonly GeneratedEvent[], refreshIntervalMs: number): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const event of traffic) if (event.at > newest) newest = event.at;
  if (!Number.isFinite(newest)) throw new RangeError('no traffic to close');
  return (Math.floor(newest / refreshIntervalMs) + 2) * refreshIntervalMs;
}

/**
 * One `customer.created` per partition of the event topics, all at `end`: every partition's event-time watermark
 * ends at the same instant, so every profile is derived at the instant `simulate --at` is given. Each key is chosen
 * so that Kafka's default partitioner (the one the connectors' producer uses) sends it to its partition.
 */
export function closingEvents(end: number, partitions: number): GeneratedEvent[] {
  const created = Math.floor(end / 1_000);
  const events: GeneratedEvent[] = [];
  keysForEveryPartition(CLOCK_CUSTOMER_PREFIX, partitions).forEach((customerId, partition) => {
    events.push({
      source: 'stripe',
      at: created * 1_000,
      raw: {
        id: `evt_democlock${String(partition)}`,
        object: 'event',
        api_version: '2025-03-31.basil',
        created,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'customer.created',
        data: {
          object: {
            id: customerId,
            object: 'customer',
            email: null,
            name: `Demo clock ${String(partition)}`,
            currency: null,
            delinquent: false,
            address: null,
            created,
          },
        },
      },
    });
  });
  return events;
}
