import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { JsonObject, JsonValue } from '../../domain/segment/model.js';
import { parseIsoTimestamp } from '../../sources/segment/index.js';
import { backoffMs, retryAfterMs } from '../retry-after.js';
import type { TokenBucket } from '../token-bucket.js';

export const DEFAULT_PROFILE_API_URL = 'https://profiles.segment.com';
/** The Profile API's documented limit per space (reference §3). */
export const DEFAULT_SEGMENT_BACKFILL_RATE = 100;
/** Traits per page: the API accepts up to 200 (its default is 10). */
export const TRAITS_PAGE_LIMIT = 200;

/** A Profile API call failed. `fatal` (bad token, no access): no other user can succeed either, so the run stops. */
export class ProfileApiError extends Error {
  constructor(
    readonly userId: string,
    /** HTTP status, null when no response came. */
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Profile API, user ${userId}: ${message}`, options);
    this.name = 'ProfileApiError';
  }

  get fatal(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The traits response does not have the documented shape; names the field. */
export class ProfileResponseError extends ProfileApiError {
  constructor(userId: string, field: string, message: string) {
    super(userId, 200, `unexpected response at ${field === '' ? '(root)' : field}: ${message}`);
    this.name = 'ProfileResponseError';
  }
}

const verboseTrait = z.looseObject({
  value: z.json(),
  source_id: z.string().nullish(),
  updated_at: z.string().nullish(),
});

const traitsPageSchema = z.looseObject({
  traits: z.record(z.string(), verboseTrait),
  cursor: z.looseObject({ has_more: z.boolean(), next: z.string().nullish() }).nullish(),
});

export interface UserTraits {
  readonly traits: JsonObject;
  /** Newest `updated_at` among the traits (epoch ms), null when the API gave none. */
  readonly updatedAt: number | null;
}

export interface ProfileApiOptions {
  /** Without a trailing slash, e.g. https://profiles.segment.com (EU: https://profiles.euw1.segment.com). */
  readonly baseUrl: string;
  readonly spaceId: string;
  /** Access token: sent as the Basic-auth username with an empty password. */
  readonly token: string;
  /** Paces every request, retries included. */
  readonly bucket: TokenBucket;
  readonly signal?: AbortSignal | undefined;
  /** Attempts per request on network errors and 5xx. */
  readonly maxAttempts?: number;
  /** Retries of a request answered 429 (each after its Retry-After). */
  readonly maxRateLimitRetries?: number;
  readonly fetch?: typeof fetch;
  readonly pageLimit?: number;
}

/**
 * Reads a user's traits from the Segment Profile API: `GET /v1/spaces/<space>/collections/users/profiles/
 * user_id:<id>/traits?limit=…&verbose=true`, following `cursor.next` while `cursor.has_more`. `verbose` gives each
 * trait's `updated_at`, which times the backfilled identify. 404 → null (no such profile); 429 waits Retry-After;
 * network errors and 5xx are retried with backoff; other answers are ProfileApiErrors.
 */
export class ProfileApiClient {
  /** HTTP requests sent (all users, retries included). */
  requests = 0;
  /** Trait pages received. */
  pages = 0;
  private readonly authorization: string;

  constructor(private readonly options: ProfileApiOptions) {
    this.authorization = `Basic ${Buffer.from(`${options.token}:`).toString('base64')}`;
  }

  async userTraits(userId: string): Promise<UserTraits | null> {
    const traits: Record<string, JsonValue> = {};
    let updatedAt: number | null = null;
    let next: string | null = null;
    do {
      const body = await this.getPage(userId, next);
      if (body === null) return null;
      const page = traitsPageSchema.safeParse(body);
      if (!page.success) {
        const issue = page.error.issues[0];
        throw new ProfileResponseError(userId, issue?.path.map(String).join('.') ?? '', issue?.message ?? 'invalid');
      }
      this.pages++;
      for (const [key, trait] of Object.entries(page.data.traits)) {
        traits[key] = trait.value;
        const at = trait.updated_at == null ? null : parseIsoTimestamp(trait.updated_at);
        if (at !== null && (updatedAt === null || at > updatedAt)) updatedAt = at;
      }
      const cursor = page.data.cursor;
      next = cursor?.has_more === true && cursor.next != null && cursor.next !== '' ? cursor.next : null;
    } while (next !== null);
    return { traits, updatedAt };
  }

  private traitsUrl(userId: string, next: string | null): string {
    const { baseUrl, spaceId } = this.options;
    // Profile keys are `<id type>:<value>`; the value must be URL-encoded (`+` → %2B) or the API may answer 500.
    const key = `user_id:${encodeURIComponent(userId)}`;
    const query = new URLSearchParams({ limit: String(this.options.pageLimit ?? TRAITS_PAGE_LIMIT), verbose: 'true' });
    if (next !== null) query.set('next', next);
    return `${baseUrl}/v1/spaces/${encodeURIComponent(spaceId)}/collections/users/profiles/${key}/traits?${query.toString()}`;
  }

  /** One page's parsed JSON body, or null on 404. */
  private async getPage(userId: string, next: string | null): Promise<unknown> {
    const { bucket, signal } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 5;
    const maxRateLimitRetries = this.options.maxRateLimitRetries ?? 20;
    const fetchImpl = this.options.fetch ?? fetch;
    const url = this.traitsUrl(userId, next);
    let failures = 0;
    let rateLimited = 0;
    for (;;) {
      await bucket.take(signal);
      this.requests++;
      let response: Response;
      try {
        response = await fetchImpl(url, {
          headers: { authorization: this.authorization, accept: 'application/json' },
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        signal?.throwIfAborted();
        if (++failures >= maxAttempts) {
          throw new ProfileApiError(userId, null, `no response after ${failures} attempts`, { cause: error });
        }
        await pause(backoffMs(failures), signal);
        continue;
      }
      if (response.ok) {
        try {
          const body: unknown = await response.json();
          return body;
        } catch (error) {
          throw new ProfileApiError(userId, response.status, 'response is not JSON', { cause: error });
        }
      }
      const text = await response.text().catch(() => '');
      if (response.status === 404) return null;
      if (response.status === 429 && ++rateLimited <= maxRateLimitRetries) {
        await pause(
          retryAfterMs(response.headers.get('retry-after') ?? undefined, Date.now()) ?? backoffMs(rateLimited),
          signal,
        );
        continue;
      }
      if (response.status >= 500 && ++failures < maxAttempts) {
        await pause(backoffMs(failures), signal);
        continue;
      }
      throw new ProfileApiError(userId, response.status, `HTTP ${response.status} ${errorCode(text)}`.trim());
    }
  }
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, signal === undefined ? undefined : { signal });
}

/** The API's `error.code` (e.g. authentication_error), never the message: it may echo the request. */
function errorCode(body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown; type?: unknown } }).error;
    const value = code?.code ?? code?.type;
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}
