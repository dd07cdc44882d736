import type { Kafka } from 'kafkajs';
import type { GeneratedEvent } from '../../src/demo/traffic-generator.js';
import type { CanonicalEvent } from '../../src/records/canonical-event.js';
import { segmentCanonicalEvents, stripeCanonicalEvent } from '../../src/sources/canonical-events.js';

/** Generated traffic as the connectors would publish it: canonical events, in the order they were generated. */
export function canonicalEventsOf(traffic: readonly GeneratedEvent[]): CanonicalEvent[] {
  const events: CanonicalEvent[] = [];
  for (const event of traffic) {
    const text = JSON.stringify(event.raw);
    const result =
      event.source === 'stripe' ? stripeCanonicalEvent(text, event.at) : segmentCanonicalEvents(text, event.at);
    if (!result.ok) throw new Error(`generated event rejected: ${result.errors.map((e) => e.message).join('; ')}`);
    events.push(...result.events);
  }
  return events;
}

/** Publishes canonical events as JSON, keyed by entity, to the topic of their source. */
export async function publishCanonical(
  kafka: Kafka,
  topics: { readonly stripe: string; readonly segment: string },
  events: readonly CanonicalEvent[],
  chunk = 500,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += chunk) {
      const slice = events.slice(i, i + chunk);
      await producer.sendBatch({
        acks: -1,
        topicMessages: (['stripe', 'segment'] as const).map((source) => ({
          topic: topics[source],
          messages: slice
            .filter((event) => event.source === source)
            .map((event) => ({ key: event.entity_key, value: JSON.stringify(event) })),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}
