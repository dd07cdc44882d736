import type { z } from 'zod';
import type { JsonObject } from '../../domain/segment/model.js';
import { systemClock, type Clock } from './clock.js';
import { isRetryableStatus, MaveraError, type MaveraEndpoint } from './mavera-error.js';
import {
  maveraCustomPersonaSchema,
  maveraErrorBodySchema,
  maveraPersonaPageSchema,
  type MaveraCustomPersona,
  type MaveraPersona,
  type MaveraPersonaPage,
} from './mavera-schemas.js';
import { readRateLimitHeaders, type RateLimitSignal } from './rate-limit-headers.js';
import type { RateLimiter } from './rate-limiter.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
/** The documented maximum of `limit` on list endpoints. */
export const LIST_PAGE_SIZE = 100;
/** 100 pages of 100 personas: far beyond any workspace, small enough to stop a server that never ends a list. */
export const DEFAULT_MAX_LIST_PAGES = 100;

export interface MaveraRequestEvent {
  readonly endpoint: MaveraEndpoint;
  /** HTTP status as text, or `timeout` / `network_error`. */
  readonly status: string;
  /** From sending the request to having read the whole answer (rate-limiter waiting excluded). */
  readonly durationMs: number;
}

/** Sees every HTTP request the client makes (each page and each attempt): metrics hook here. */
export type MaveraRequestObserver = (event: MaveraRequestEvent) => void;

export interface MaveraClientOptions {
  readonly apiKey: string;
  /** e.g. `https://app.mavera.io/api/v1`; a trailing slash is ignored. */
  readonly baseUrl: string;
  /** Sends `X-Mavera-Sandbox: true` (MAVERA_SANDBOX). */
  readonly sandbox?: boolean;
  readonly timeoutMs?: number;
  readonly maxListPages?: number;
  /** Every request waits for a token first and reports its rate-limit headers back. */
  readonly rateLimiter?: RateLimiter;
  readonly fetch?: typeof globalThis.fetch;
  readonly clock?: Clock;
  readonly observer?: MaveraRequestObserver;
}

export interface MaveraWriteResult {
  readonly persona: MaveraCustomPersona;
  /** 200 or 201 (which one persona creation answers with is not documented). */
  readonly httpStatus: number;
}

/** The calls the flusher makes; MaveraClient is the HTTP implementation. */
export interface MaveraApi {
  /** Every persona visible to the key (base and custom), all pages. */
  listPersonas(): Promise<MaveraPersona[]>;
  createPersona(body: JsonObject): Promise<MaveraWriteResult>;
  updatePersona(personaId: string, body: JsonObject): Promise<MaveraWriteResult>;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

function formatZodPath(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('')
    .replace(/^\./, '');
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Typed client of Mavera's persona endpoints (reference §2): bearer auth, timeouts, zod-checked answers. */
export class MaveraClient implements MaveraApi {
  private readonly baseUrl: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly maxListPages: number;
  private readonly rateLimiter: RateLimiter | undefined;
  private readonly fetch: typeof globalThis.fetch;
  private readonly clock: Clock;
  private readonly observer: MaveraRequestObserver | undefined;

  constructor(options: MaveraClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = {
      authorization: `Bearer ${options.apiKey}`,
      accept: 'application/json',
      ...(options.sandbox === true ? { 'x-mavera-sandbox': 'true' } : {}),
    };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxListPages = options.maxListPages ?? DEFAULT_MAX_LIST_PAGES;
    this.rateLimiter = options.rateLimiter;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.clock = options.clock ?? systemClock;
    this.observer = options.observer;
  }

  /**
   * Follows `next_cursor` when the page has one, else `has_more` with an offset (both pagination styles the
   * reference shows). A page that promises more but is empty, a cursor seen before, or more than `maxListPages`
   * pages end the listing with an `invalid_response` error rather than loop.
   */
  async listPersonas(): Promise<MaveraPersona[]> {
    const endpoint = 'GET /personas';
    const personas: MaveraPersona[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    let offset: number | undefined;
    for (let pageNumber = 1; ; pageNumber++) {
      if (pageNumber > this.maxListPages) {
        throw this.invalidResponse(endpoint, 200, '', `more than ${this.maxListPages} pages`);
      }
      const query = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) });
      if (cursor !== undefined) query.set('cursor', cursor);
      else if (offset !== undefined) query.set('offset', String(offset));
      const answer = await this.send(endpoint, 'GET', `/personas?${query.toString()}`, undefined);
      const page: MaveraPersonaPage = this.parse(endpoint, answer, maveraPersonaPageSchema);
      personas.push(...page.data);
      const nextCursor = page.next_cursor ?? undefined;
      const more = page.has_more ?? (nextCursor !== undefined && nextCursor !== '');
      if (!more) return personas;
      if (page.data.length === 0)
        throw this.invalidResponse(endpoint, answer.status, answer.text, 'empty page with has_more');
      if (nextCursor !== undefined && nextCursor !== '') {
        if (seenCursors.has(nextCursor)) {
          throw this.invalidResponse(endpoint, answer.status, answer.text, 'next_cursor repeats an earlier cursor');
        }
        seenCursors.add(nextCursor);
        cursor = nextCursor;
      } else {
        cursor = undefined;
        offset = (page.offset ?? offset ?? 0) + page.data.length;
      }
    }
  }

  async createPersona(body: JsonObject): Promise<MaveraWriteResult> {
    const endpoint = 'POST /personas';
    const answer = await this.send(endpoint, 'POST', '/personas', body);
    return { persona: this.parse(endpoint, answer, maveraCustomPersonaSchema), httpStatus: answer.status };
  }

  async updatePersona(personaId: string, body: JsonObject): Promise<MaveraWriteResult> {
    const endpoint = 'PATCH /personas/{id}';
    const answer = await this.send(endpoint, 'PATCH', `/personas/${encodeURIComponent(personaId)}`, body);
    return { persona: this.parse(endpoint, answer, maveraCustomPersonaSchema), httpStatus: answer.status };
  }

  private async send(
    endpoint: MaveraEndpoint,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body: JsonObject | undefined,
  ): Promise<Answer> {
    await this.rateLimiter?.acquire();
    const startedAt = this.clock.now();
    let status: number;
    let text: string;
    let signal: RateLimitSignal;
    try {
      const response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
      status = response.status;
      signal = readRateLimitHeaders(response.headers, this.clock.now());
    } catch (error) {
      const timedOut = isTimeout(error);
      const code = timedOut ? 'timeout' : 'network_error';
      this.observer?.({ endpoint, status: code, durationMs: this.clock.now() - startedAt });
      throw new MaveraError(
        {
          kind: timedOut ? 'timeout' : 'network',
          endpoint,
          status: null,
          code,
          param: null,
          body: null,
          retryable: true,
          retryAfterMs: null,
          message: timedOut
            ? `no answer within ${this.timeoutMs} ms`
            : error instanceof Error
              ? error.message
              : String(error),
        },
        { cause: error },
      );
    }
    this.observer?.({ endpoint, status: String(status), durationMs: this.clock.now() - startedAt });
    this.rateLimiter?.observe(signal);
    if (status < 200 || status > 299) throw this.httpError(endpoint, status, text, signal);
    return { status, text };
  }

  private httpError(endpoint: MaveraEndpoint, status: number, text: string, signal: RateLimitSignal): MaveraError {
    const parsed = maveraErrorBodySchema.safeParse(parseJson(text));
    const error = parsed.success ? parsed.data.error : undefined;
    const resetWait = signal.remaining === 0 && signal.resetAtMs !== null ? signal.resetAtMs - this.clock.now() : null;
    return new MaveraError({
      kind: 'http',
      endpoint,
      status,
      code: error?.code ?? `http_${status}`,
      param: error?.param ?? null,
      body: text,
      retryable: isRetryableStatus(status),
      retryAfterMs: signal.retryAfterMs ?? (resetWait === null ? null : Math.max(0, resetWait)),
      message: error?.message ?? (text.slice(0, 200) || `HTTP ${status}`),
    });
  }

  private parse<Schema extends z.ZodType>(endpoint: MaveraEndpoint, answer: Answer, schema: Schema): z.output<Schema> {
    const json = parseJson(answer.text);
    if (json === undefined) throw this.invalidResponse(endpoint, answer.status, answer.text, 'body is not JSON');
    const result = schema.safeParse(json);
    if (result.success) return result.data;
    const issues = result.error.issues.map((issue) => `${formatZodPath(issue.path) || '(body)'}: ${issue.message}`);
    throw this.invalidResponse(endpoint, answer.status, answer.text, issues.join('; '));
  }

  private invalidResponse(endpoint: MaveraEndpoint, status: number, text: string, why: string): MaveraError {
    return new MaveraError({
      kind: 'invalid_response',
      endpoint,
      status,
      code: 'invalid_response',
      param: null,
      body: text,
      retryable: false,
      retryAfterMs: null,
      message: `unexpected response body: ${why}`,
    });
  }
}
