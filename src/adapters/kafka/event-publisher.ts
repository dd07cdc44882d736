import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import type { RecordSerde } from './record-serde.js';
import { SerialProducer } from './serial-producer.js';

// kafkajs is CommonJS: its enums are reached through the default export under ESM.
const { CompressionTypes } = kafkajs;

/** The broker did not confirm the write: the caller must not report the events as accepted (a webhook answers 503). */
export class PublishError extends Error {
  constructor(
    readonly topic: string,
    readonly count: number,
    options: { cause: unknown },
  ) {
    super(
      `could not publish ${String(count)} event(s) to ${topic}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`,
      options,
    );
    this.name = 'PublishError';
  }
}

/**
 * No acknowledgement within the publisher's deadline. A send still queued then is dropped; one already sent cannot be
 * recalled (Kafka has no way to): its events may still be written after the caller was told they were not, so a
 * retried delivery can duplicate them, which the processor's event-id deduplication absorbs.
 */
export class PublishDeadlineError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`the broker did not acknowledge within ${String(deadlineMs)} ms`);
    this.name = 'PublishDeadlineError';
  }
}

/** Where connectors write canonical events; resolves only once the broker acknowledged them. */
export interface EventSink {
  publish(topic: string, events: readonly CanonicalEvent[]): Promise<void>;
}

export interface PublisherOptions {
  /** An idempotent producer (default); false only on a broker that cannot do it (see producerOptions). */
  readonly idempotent?: boolean;
  /** How long the broker may wait for the in-sync replicas' acks (Kafka's produce timeout, default 10 000 ms). */
  readonly timeoutMs?: number;
  /**
   * Client-side bound on one publish, waiting behind earlier sends, retries and reconnects included: past it,
   * publish rejects with a PublishError caused by PublishDeadlineError. Without it a send to an unreachable broker
   * keeps retrying for as long as kafkajs' connection retries last (about 10 s), longer than a webhook sender
   * waits for its answer.
   */
  readonly deadlineMs?: number;
}

/**
 * Publishes canonical events keyed by their entity key (so one customer's or user's events stay ordered in one
 * partition), idempotently, with acks from all in-sync replicas and gzip compression, in the order `publish` was
 * called. `publish` resolves only after the broker acknowledged every event; otherwise it rejects with a
 * PublishError and nothing may be reported as written.
 */
export class EventPublisher implements EventSink {
  private readonly producer: SerialProducer;

  constructor(
    kafka: Kafka,
    private readonly serde: RecordSerde<CanonicalEvent>,
    private readonly options: PublisherOptions = {},
  ) {
    this.producer = new SerialProducer(kafka, {
      idempotent: options.idempotent ?? true,
      timeoutMs: options.timeoutMs ?? 10_000,
      compression: CompressionTypes.GZIP,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async publish(topic: string, events: readonly CanonicalEvent[]): Promise<void> {
    if (events.length === 0) return;
    // No record timestamp of ours: the producer stamps publish time. Event time is occurred_at in the value. An old
    // occurred_at there (a backfill, a Stripe retry days later) made the broker drop the producer's sequence
    // numbers on restart (older than producer.id.expiration.ms, 1 day), so a retried send was written twice
    // (measured); and `replay --from <instant>` reads record time as publish time.
    const messages = await Promise.all(
      events.map(async (event) => ({
        key: event.entity_key,
        value: await this.serde.encode(event),
        headers: { source: event.source, type: event.type },
      })),
    );
    const deadline = this.options.deadlineMs === undefined ? undefined : deadlineSignal(this.options.deadlineMs);
    try {
      await this.producer.send(topic, messages, deadline?.signal);
    } catch (error) {
      throw new PublishError(topic, events.length, { cause: error });
    } finally {
      deadline?.clear();
    }
  }
}

/** A signal aborted with a PublishDeadlineError once `deadlineMs` passed, unless cleared first. */
function deadlineSignal(deadlineMs: number): { readonly signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new PublishDeadlineError(deadlineMs));
  }, deadlineMs);
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
    },
  };
}
