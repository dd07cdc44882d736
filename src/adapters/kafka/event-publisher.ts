import kafkajs from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import type { RecordSerde } from './record-serde.js';

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
 * No acknowledgement within the publisher's deadline. The send is not cancelled (Kafka has no way to): the events may
 * still be written after the caller was told they were not, so a retried delivery can duplicate them, which the
 * processor's event-id deduplication absorbs.
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
  /** Retries inside the client before a send is reported failed (bounded, so a webhook gets its 503 in time). */
  readonly retries?: number;
  /** How long the broker may wait for the in-sync replicas' acks (Kafka's produce timeout, default 10 000 ms). */
  readonly timeoutMs?: number;
  /**
   * Client-side bound on one publish, retries and reconnects included: past it, publish rejects with a
   * PublishError caused by PublishDeadlineError. Without it a send to an unreachable broker keeps retrying for as
   * long as kafkajs' connection retries last (about 20 s), longer than a webhook sender waits for its answer.
   */
  readonly deadlineMs?: number;
}

/**
 * Publishes canonical events keyed by their entity key (so one customer's or user's events stay ordered in one
 * partition), with acks from all in-sync replicas and gzip compression. `publish` resolves only after the broker
 * acknowledged every event; otherwise it rejects with a PublishError and nothing may be reported as written.
 */
export class EventPublisher implements EventSink {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly serde: RecordSerde<CanonicalEvent>,
    private readonly options: PublisherOptions = {},
  ) {
    // Not idempotent: kafkajs' non-transactional idempotent producer fails on some brokers (the local mock among
    // them); duplicates from a retried send are harmless because the processor deduplicates by event id.
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: options.retries ?? 3, initialRetryTime: 100, maxRetryTime: 2_000 },
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
    const messages = await Promise.all(
      events.map(async (event) => ({
        key: event.entity_key,
        value: await this.serde.encode(event),
        headers: { source: event.source, type: event.type },
        timestamp: String(event.occurred_at),
      })),
    );
    const sent = this.producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      timeout: this.options.timeoutMs ?? 10_000,
      messages,
    });
    const deadlineMs = this.options.deadlineMs;
    try {
      await (deadlineMs === undefined ? sent : withinDeadline(sent, deadlineMs));
    } catch (error) {
      throw new PublishError(topic, events.length, { cause: error });
    }
  }
}

/** `work`, or a PublishDeadlineError once `deadlineMs` passed first (a later rejection of `work` is then ignored). */
function withinDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new PublishDeadlineError(deadlineMs));
    }, deadlineMs);
  });
  return Promise.race([work, expired]).finally(() => {
    clearTimeout(timer);
  });
}
