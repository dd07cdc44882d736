import Stripe from 'stripe';
import type { GeneratedEvent } from './traffic-generator.js';

/** Where and how the generated traffic is delivered: the connectors' HTTP server and the credentials it accepts. */
export interface TrafficTarget {
  /** `http://host:port` of the connectors. */
  readonly baseUrl: string;
  readonly stripeWebhookSecret: string;
  readonly segmentWriteKey: string;
}

export interface TrafficSenderOptions {
  /** Requests in flight at once (Stripe delivers webhooks concurrently too). */
  readonly concurrency?: number;
  /** Most Segment messages per Tracking API batch. */
  readonly segmentBatchSize?: number;
  /** Most bytes of one Tracking API batch body (Segment's limit is 500 KB). */
  readonly segmentBatchBytes?: number;
  /** Attempts of one request answered 503 (the broker did not confirm) or not answered, as Stripe/Segment retry. */
  readonly maxAttempts?: number;
}

/** A connector refused generated traffic: a bug in the generator or the connector, never retried. */
export class TrafficRejectedError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly answer: string,
  ) {
    super(`POST ${path} answered ${String(status)}: ${answer.slice(0, 500)}`);
    this.name = 'TrafficRejectedError';
  }
}

/** The connectors stayed unavailable for a request through every retry. */
export class TrafficUndeliveredError extends Error {
  constructor(
    readonly path: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`POST ${path} failed ${String(attempts)} times: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'TrafficUndeliveredError';
  }
}

interface Delivery {
  readonly path: '/webhooks/stripe' | '/v1/batch';
  readonly body: string;
  readonly source: GeneratedEvent['source'];
  readonly events: number;
  /** Event time of the newest event in it. */
  readonly at: number;
}

const STRIPE_PATH = '/webhooks/stripe';
const SEGMENT_BATCH_PATH = '/v1/batch';
/** `{"batch":[` and `]}`. */
const BATCH_ENVELOPE_BYTES = 12;

/**
 * Delivers generated traffic through the connectors' real HTTP paths, in event-time order within the concurrency
 * window: each Stripe event as a webhook signed with `Stripe-Signature` (signed when sent, so the 300 s tolerance
 * holds however long the run), Segment messages as Tracking API batches with the write key in Basic auth. Counts
 * what the connectors accepted (answered 200, i.e. acknowledged by the broker) as it goes.
 */
export class TrafficSender {
  stripeEvents = 0;
  segmentMessages = 0;
  segmentBatches = 0;
  /** Event time of the newest accepted delivery: how far the simulated months have got. */
  simulatedAt = Number.NEGATIVE_INFINITY;

  private failure: Error | undefined;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly batchBytes: number;
  private readonly maxAttempts: number;
  private readonly authorization: string;

  constructor(
    private readonly target: TrafficTarget,
    options: TrafficSenderOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
    // Large batches: each becomes one record batch per partition, and the processor's cost is per record batch.
    this.batchSize = options.segmentBatchSize ?? 1_000;
    this.batchBytes = options.segmentBatchBytes ?? 400_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.authorization = `Basic ${Buffer.from(`${target.segmentWriteKey}:`).toString('base64')}`;
  }

  /** Every accepted event so far (Stripe events plus Segment messages). */
  get accepted(): number {
    return this.stripeEvents + this.segmentMessages;
  }

  /**
   * Sends every event; resolves when all are accepted, rejects on the first refusal or undeliverable request (the
   * requests in flight finish first).
   */
  async send(traffic: readonly GeneratedEvent[]): Promise<void> {
    const deliveries = this.plan(traffic);
    let next = 0;
    const worker = async () => {
      while (this.failure === undefined && next < deliveries.length) {
        const delivery = deliveries[next++];
        if (delivery === undefined) break;
        try {
          await this.deliver(delivery);
        } catch (error) {
          this.failure ??= error instanceof Error ? error : new Error(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    if (this.failure !== undefined) throw this.failure;
  }

  /** Sends nothing more: the running send() rejects with `reason` once its requests in flight are answered. */
  stop(reason: Error): void {
    this.failure ??= reason;
  }

  private plan(traffic: readonly GeneratedEvent[]): Delivery[] {
    const deliveries: Delivery[] = [];
    let batch: string[] = [];
    let batchBytes = 0;
    let batchAt = Number.NEGATIVE_INFINITY;
    const flushBatch = () => {
      if (batch.length === 0) return;
      deliveries.push({
        path: SEGMENT_BATCH_PATH,
        body: `{"batch":[${batch.join(',')}]}`,
        source: 'segment',
        events: batch.length,
        at: batchAt,
      });
      batch = [];
      batchBytes = 0;
    };
    for (const event of traffic) {
      const json = JSON.stringify(event.raw);
      if (event.source === 'stripe') {
        deliveries.push({ path: STRIPE_PATH, body: json, source: 'stripe', events: 1, at: event.at });
        continue;
      }
      if (batchBytes + json.length + BATCH_ENVELOPE_BYTES > this.batchBytes) flushBatch();
      batch.push(json);
      batchBytes += json.length + 1;
      batchAt = event.at;
      if (batch.length >= this.batchSize) flushBatch();
    }
    flushBatch();
    return deliveries;
  }

  private async deliver(delivery: Delivery): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 2)));
      let response: Response;
      try {
        response = await fetch(`${this.target.baseUrl}${delivery.path}`, {
          method: 'POST',
          headers: this.headers(delivery),
          body: delivery.body,
        });
      } catch (error) {
        lastError = error;
        continue;
      }
      const answer = await response.text();
      if (response.status === 200) {
        this.count(delivery);
        return;
      }
      if (response.status !== 503) throw new TrafficRejectedError(delivery.path, response.status, answer);
      lastError = new Error(`503: ${answer}`);
    }
    throw new TrafficUndeliveredError(delivery.path, this.maxAttempts, lastError);
  }

  private headers(delivery: Delivery): Record<string, string> {
    if (delivery.source === 'segment') return { 'content-type': 'application/json', authorization: this.authorization };
    return {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload: delivery.body,
        secret: this.target.stripeWebhookSecret,
      }),
    };
  }

  private count(delivery: Delivery): void {
    if (delivery.source === 'stripe') {
      this.stripeEvents += 1;
    } else {
      this.segmentMessages += delivery.events;
      this.segmentBatches += 1;
    }
    if (delivery.at > this.simulatedAt) this.simulatedAt = delivery.at;
  }
}
