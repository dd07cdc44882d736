import { RateLimiter, type RateLimiterOptions } from '../adapters/mavera/rate-limiter.js';

/**
 * The rate limiter every Mavera request waits on, with a check after the wait: the wait can be long (a Retry-After
 * pauses every caller), and the process may have lost the right to send meanwhile. The check throws to stop the
 * request before it leaves; it runs after the token is taken, right before the request is sent.
 */
export class GuardedRateLimiter extends RateLimiter {
  constructor(
    options: RateLimiterOptions,
    private readonly guard: () => void,
  ) {
    super(options);
  }

  override async acquire(): Promise<number> {
    this.guard();
    const waited = await super.acquire();
    this.guard();
    return waited;
  }
}
