import type { CompressionTypes, Kafka, Message, Producer } from 'kafkajs';
import { ACKS_ALL, producerOptions } from './producer-options.js';

/**
 * Sends queued while one is in flight go out together as the next produce request, up to this many bytes of keys
 * and values: far below the broker's 1 MiB message.max.bytes for what lands in any one partition.
 */
const MAX_MERGED_BYTES = 512 * 1024;

export interface SerialProducerOptions {
  /** See producerOptions: false only for brokers that cannot hand out producer ids (KAFKA_IDEMPOTENT=false). */
  readonly idempotent: boolean;
  /** Kafka's produce timeout: how long the broker may wait for the in-sync replicas (default 10 000 ms). */
  readonly timeoutMs?: number;
  readonly compression?: CompressionTypes;
}

/** The producer was disconnected before this send went out: nothing of it was written. */
export class ProducerClosedError extends Error {
  constructor() {
    super('the producer is disconnected');
    this.name = 'ProducerClosedError';
  }
}

interface QueuedSend {
  readonly topic: string;
  readonly messages: Message[];
  readonly bytes: number;
  readonly signal: AbortSignal | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A kafkajs producer with one produce request in flight, which its idempotence needs. kafkajs winds a failed
 * request's sequence numbers back although the broker may have appended it (only the ack was lost); the next batch
 * then reuses them and the broker acks it as a duplicate without writing it. Seen on Apache Kafka 4.1 (ack dropped,
 * broker killed): with sends side by side, a later send vanished so; one at a time, the send after one that failed
 * for good did. Hence one request at a time (what queues meanwhile is merged into the next, for throughput) and a
 * new producer, with a new producer id, after any failed send.
 *
 * `send` resolves once the broker acknowledged the messages. A send whose signal aborts rejects at once with the
 * signal's reason; if it had not gone out yet it never will, else it may still be written.
 */
export class SerialProducer {
  private producer: Producer;
  /** The last send failed: the producer's sequence numbers may disagree with the broker's. */
  private stale = false;
  private readonly queue: QueuedSend[] = [];
  private pumping = false;
  private drained: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly kafka: Pick<Kafka, 'producer'>,
    private readonly options: SerialProducerOptions,
  ) {
    this.producer = kafka.producer(producerOptions(options.idempotent));
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Refuses what has not gone out yet, lets the send in flight finish, then disconnects. */
  async disconnect(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) queued.reject(new ProducerClosedError());
    await this.drained;
    await this.producer.disconnect();
  }

  send(topic: string, messages: Message[], signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new ProducerClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settled = () => signal?.removeEventListener('abort', onAbort);
      this.queue.push({
        topic,
        messages,
        bytes: sizeOf(messages),
        signal,
        resolve: () => {
          settled();
          resolve();
        },
        reject: (error) => {
          settled();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      });
      if (!this.pumping) {
        this.pumping = true;
        this.drained = this.pump();
      }
    });
  }

  private async pump(): Promise<void> {
    for (let batch = this.nextBatch(); batch.length > 0; batch = this.nextBatch()) {
      try {
        await this.sendNow(batch);
        for (const queued of batch) queued.resolve();
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    // Cleared in the same turn as the queue was found empty, so a send queued after it starts the pump again.
    this.pumping = false;
  }

  /** The oldest queued sends whose callers still wait, merged up to MAX_MERGED_BYTES (at least one). */
  private nextBatch(): QueuedSend[] {
    const batch: QueuedSend[] = [];
    let bytes = 0;
    for (let next = this.queue[0]; next !== undefined; next = this.queue[0]) {
      if (next.signal?.aborted !== true) {
        if (batch.length > 0 && bytes + next.bytes > MAX_MERGED_BYTES) break;
        batch.push(next);
        bytes += next.bytes;
      }
      this.queue.shift();
    }
    return batch;
  }

  private async sendNow(batch: readonly QueuedSend[]): Promise<void> {
    if (this.stale) await this.replaceProducer();
    try {
      await this.producer.sendBatch({
        acks: ACKS_ALL,
        timeout: this.options.timeoutMs ?? 10_000,
        ...(this.options.compression === undefined ? {} : { compression: this.options.compression }),
        topicMessages: batch.map(({ topic, messages }) => ({ topic, messages })),
      });
    } catch (error) {
      if (this.options.idempotent) this.stale = true;
      throw error;
    }
  }

  private async replaceProducer(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    this.producer = this.kafka.producer(producerOptions(this.options.idempotent));
    // Fails while the broker is unreachable: the producer stays stale and the batch fails with it.
    await this.producer.connect();
    this.stale = false;
  }
}

function sizeOf(messages: readonly Message[]): number {
  let bytes = 0;
  for (const { key, value } of messages) bytes += byteLength(key) + byteLength(value);
  return bytes;
}

function byteLength(data: Buffer | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
