import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { backoffMs, retryAfterMs } from '../retry-after.js';
import type { TokenBucket } from '../token-bucket.js';

export const DEFAULT_STRIPE_API_URL = 'https://api.stripe.com';
/** Stripe's per-endpoint default and the sandbox's global limit (reference §2.6): safe on every account. */
export const DEFAULT_STRIPE_BACKFILL_RATE = 25;

export interface StripeApiOptions {
  readonly apiKey: string;
  /** Where the API is: `https://api.stripe.com` unless pointed at stripe-mock or a test double (STRIPE_API_URL). */
  readonly apiUrl?: string | undefined;
  /** Paces every HTTP request the client sends, retries included. */
  readonly bucket: TokenBucket;
  /** The SDK's own retries: connection errors, 409 and 5xx, with its exponential backoff. */
  readonly maxNetworkRetries?: number;
  /** Our retries of a GET answered 429, after the Retry-After the server asked for. */
  readonly maxRateLimitRetries?: number;
  readonly timeoutMs?: number;
  /** Aborts waits for a token or a Retry-After (a request already on the wire finishes). */
  readonly signal?: AbortSignal | undefined;
  readonly onRateLimited?: (waitMs: number, path: string) => void;
}

/**
 * A Stripe SDK client for reading: every request (auto-pagination pages and the SDK's retries too) first takes a
 * token from the shared bucket, and a GET answered 429 is retried after its Retry-After (else exponential backoff),
 * which stripe-node itself does not do (it retries a 429 only when Stripe-Should-Retry says so).
 */
export function createStripeApi(options: StripeApiOptions): Stripe {
  const url = new URL(options.apiUrl ?? DEFAULT_STRIPE_API_URL);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(options.apiKey, {
    host: url.hostname,
    port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port),
    protocol,
    maxNetworkRetries: options.maxNetworkRetries ?? 3,
    timeout: options.timeoutMs ?? 30_000,
    telemetry: false,
    httpClient: new PacedHttpClient(Stripe.createNodeHttpClient(), options),
  });
}

class PacedHttpClient implements Stripe.HttpClient {
  constructor(
    private readonly inner: Stripe.HttpClient,
    private readonly options: StripeApiOptions,
  ) {}

  getClientName(): string {
    return this.inner.getClientName();
  }

  async makeRequest(
    host: string,
    port: string,
    path: string,
    method: string,
    headers: Parameters<Stripe.HttpClient['makeRequest']>[4],
    requestData: string,
    protocol: string,
    timeout: number,
  ): Promise<Stripe.HttpClientResponse> {
    const maxRetries = this.options.maxRateLimitRetries ?? 8;
    const signal = this.options.signal;
    for (let attempt = 1; ; attempt++) {
      await this.options.bucket.take(signal);
      const response = await this.inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
      if (response.getStatusCode() !== 429 || method.toUpperCase() !== 'GET' || attempt > maxRetries) return response;
      const header = response.getHeaders()['retry-after'];
      const waitMs = retryAfterMs(header, Date.now()) ?? backoffMs(attempt);
      // Read the body so the keep-alive socket goes back to the pool.
      await (response.toJSON() as Promise<unknown>).catch(() => undefined);
      this.options.onRateLimited?.(waitMs, path);
      if (waitMs > 0) await sleep(waitMs, undefined, signal === undefined ? undefined : { signal });
    }
  }
}
