/** What one Mavera response says about the rate limit (reference §3). Every field is null when not sent. */
export interface RateLimitSignal {
  /** `Retry-After` as milliseconds from now. */
  readonly retryAfterMs: number | null;
  /** `X-RateLimit-Limit`: requests per minute of the key's tier. */
  readonly limit: number | null;
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  readonly remaining: number | null;
  /** `X-RateLimit-Reset` as epoch milliseconds. */
  readonly resetAtMs: number | null;
}

/** Header lookup of both `Headers` (fetch) and plain records, case-insensitive. */
export type HeaderSource = Headers | Readonly<Record<string, string | undefined>>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

const DECIMAL = /^\d+(?:\.\d+)?$/;

function nonNegativeNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : null;
}

/** Seconds (`120`) or an HTTP date (RFC 9110 allows both). */
function retryAfterMs(text: string | undefined, nowMs: number): number | null {
  if (text === undefined) return null;
  const seconds = nonNegativeNumber(text);
  if (seconds !== null) return Math.ceil(seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Anything below this is not a Unix timestamp in seconds, so it is read as seconds from now. */
const UNIX_SECONDS_FLOOR = 1_000_000_000;
/** Anything above this is already epoch milliseconds. */
const UNIX_MILLIS_FLOOR = 1_000_000_000_000;

/**
 * The reference documents `X-RateLimit-Reset` as a Unix timestamp (seconds). Some APIs send seconds-until-reset or
 * milliseconds instead; the magnitude tells them apart, so each is read as what it can only be.
 */
function resetAtMs(text: string | undefined, nowMs: number): number | null {
  const value = nonNegativeNumber(text);
  if (value === null) return null;
  if (value >= UNIX_MILLIS_FLOOR) return value;
  if (value >= UNIX_SECONDS_FLOOR) return value * 1000;
  return nowMs + value * 1000;
}

export function readRateLimitHeaders(headers: HeaderSource, nowMs: number): RateLimitSignal {
  const limit = nonNegativeNumber(header(headers, 'x-ratelimit-limit'));
  const remaining = nonNegativeNumber(header(headers, 'x-ratelimit-remaining'));
  return {
    retryAfterMs: retryAfterMs(header(headers, 'retry-after'), nowMs),
    limit: limit === null ? null : Math.floor(limit),
    remaining: remaining === null ? null : Math.floor(remaining),
    resetAtMs: resetAtMs(header(headers, 'x-ratelimit-reset'), nowMs),
  };
}
