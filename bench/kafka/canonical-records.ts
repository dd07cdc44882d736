import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import type { EventSource } from '../../src/records/canonical-event.js';
import { segmentCanonicalEvents, stripeCanonicalEvent } from '../../src/sources/canonical-events.js';

const { CompressionTypes } = kafkajs;

/** A canonical event as the connectors publish it: JSON value keyed by entity, on its source's topic. */
export interface CanonicalRecord {
  readonly source: EventSource;
  readonly key: string;
  readonly value: Buffer;
  readonly occurredAt: number;
}

export interface CanonicalTopics {
  readonly stripe: string;
  readonly segment: string;
}

const START = Date.UTC(2026, 0, 1);
/** The generator's mean events per entity over 6 months (customers ~10, users ~20): sizes the population. */
const EVENTS_PER_ENTITY = 14;

/**
 * The first `events` canonical events (by event time) of the demo generator's traffic for as many customers as
 * users, converted by the connectors' own functions (stripeCanonicalEvent, segmentCanonicalEvents), so the records
 * are byte for byte what the connectors would have published. Deterministic in `seed`.
 */
export function generateCanonicalRecords(options: {
  readonly seed: number;
  readonly events: number;
}): CanonicalRecord[] {
  let perKind = Math.max(1, Math.ceil(options.events / EVENTS_PER_ENTITY / 2));
  for (;;) {
    const traffic = generateTraffic({
      seed: options.seed,
      customers: perKind,
      users: perKind,
      months: 6,
      start: START,
    });
    // Some Stripe event types carry nothing the pipeline uses and become no record: keep a margin.
    if (traffic.length < options.events * 1.05) {
      perKind = Math.ceil(perKind * 1.25);
      continue;
    }
    const records: CanonicalRecord[] = [];
    for (const event of traffic) {
      if (records.length >= options.events) break;
      const text = JSON.stringify(event.raw);
      const result =
        event.source === 'stripe' ? stripeCanonicalEvent(text, event.at) : segmentCanonicalEvents(text, event.at);
      if (!result.ok) {
        throw new Error(`generated event rejected: ${result.errors.map((error) => error.message).join('; ')}`);
      }
      for (const canonical of result.events) {
        records.push({
          source: canonical.source,
          key: canonical.entity_key,
          value: Buffer.from(JSON.stringify(canonical), 'utf8'),
          occurredAt: canonical.occurred_at,
        });
      }
    }
    if (records.length >= options.events) return records.slice(0, options.events);
    perKind = Math.ceil(perKind * 1.25);
  }
}

export function totalBytes(records: readonly CanonicalRecord[]): number {
  return records.reduce((sum, record) => sum + record.value.byteLength, 0);
}

/**
 * Writes the records to their topics as the connectors do (keyed by entity, acks=all, gzip), `chunk` records per
 * request with a few requests in flight. Resolves once the broker acknowledged every record.
 */
export async function produceCanonicalRecords(
  kafka: Kafka,
  topics: CanonicalTopics,
  records: readonly CanonicalRecord[],
  options: { readonly chunk?: number; readonly inFlight?: number } = {},
): Promise<void> {
  const chunk = options.chunk ?? 48_000;
  const inFlight = options.inFlight ?? 4;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const sending = new Set<Promise<unknown>>();
    for (let start = 0; start < records.length; start += chunk) {
      const stripe: { key: string; value: Buffer }[] = [];
      const segment: { key: string; value: Buffer }[] = [];
      for (let i = start; i < Math.min(records.length, start + chunk); i++) {
        const record = records[i] as CanonicalRecord;
        (record.source === 'stripe' ? stripe : segment).push({ key: record.key, value: record.value });
      }
      const send: Promise<unknown> = producer
        .sendBatch({
          acks: -1,
          compression: CompressionTypes.GZIP,
          topicMessages: [
            { topic: topics.stripe, messages: stripe },
            { topic: topics.segment, messages: segment },
          ].filter((entry) => entry.messages.length > 0),
        })
        .finally(() => sending.delete(send));
      sending.add(send);
      if (sending.size >= inFlight) await Promise.race(sending);
    }
    await Promise.all(sending);
  } finally {
    await producer.disconnect();
  }
}
