/** The persona endpoints, as metric labels and in logs (ids never appear: they would make labels unbounded). */
export const maveraEndpoints = ['GET /personas', 'POST /personas', 'PATCH /personas/{id}'] as const;
export type MaveraEndpoint = (typeof maveraEndpoints)[number];

/**
 * - `http`: Mavera answered with a non-2xx status;
 * - `timeout`: no complete answer within the client's timeout;
 * - `network`: the request failed before an answer (DNS, refused, reset);
 * - `invalid_response`: a 2xx answer whose body is not what the reference documents.
 */
export type MaveraErrorKind = 'http' | 'timeout' | 'network' | 'invalid_response';

export interface MaveraErrorDetails {
  readonly kind: MaveraErrorKind;
  readonly endpoint: MaveraEndpoint;
  /** HTTP status; null when no answer arrived. */
  readonly status: number | null;
  /** Mavera's `error.code` (e.g. `invalid_field`), else `http_<status>`, `timeout`, `network_error` or `invalid_response`. */
  readonly code: string;
  /** Mavera's `error.param` when it names the offending field. */
  readonly param: string | null;
  /** The response body as received (null when none arrived). */
  readonly body: string | null;
  /** Worth sending again: 429, 5xx, timeouts and network errors. Other 4xx and invalid 2xx bodies are not. */
  readonly retryable: boolean;
  /** From `Retry-After` (429) or `X-RateLimit-Reset` when remaining is 0; null when neither was sent. */
  readonly retryAfterMs: number | null;
  readonly message: string;
}

/** A failed Mavera call, with everything the flusher needs to decide between retrying and dead-lettering. */
export class MaveraError extends Error {
  readonly kind: MaveraErrorKind;
  readonly endpoint: MaveraEndpoint;
  readonly status: number | null;
  readonly code: string;
  readonly param: string | null;
  readonly body: string | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;

  constructor(details: MaveraErrorDetails, options?: { cause?: unknown }) {
    super(`Mavera ${details.endpoint} failed (${details.status ?? details.code}): ${details.message}`, options);
    this.name = 'MaveraError';
    this.kind = details.kind;
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.code = details.code;
    this.param = details.param;
    this.body = details.body;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }

  /**
   * Mavera may have carried the request out although we saw a failure: no answer (timeout, network), a server
   * error, or a 2xx we could not read. A create that failed this way may have created the persona.
   */
  get ambiguous(): boolean {
    return this.kind !== 'http' || (this.status !== null && this.status >= 500);
  }

  /** Label for metrics: the HTTP status, or `timeout` / `network_error`. */
  get statusLabel(): string {
    return this.status === null ? this.code : String(this.status);
  }
}

/** 429 and 5xx are transient; every other status is a verdict on the request itself or on the account. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}
