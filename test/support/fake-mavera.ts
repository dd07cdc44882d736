import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/adapters/mavera/clock.js';

/**
 * A fake of Mavera's persona endpoints (shared/reference/mavera-api.md §2–4) on a real HTTP port: bearer auth,
 * `GET/POST /personas`, `PATCH /personas/{id}`, Mavera's error envelope, a sliding-window rate limit with
 * `X-RateLimit-*` and `Retry-After`, our defensive payload limits (nesting ≤ 3, arrays ≤ 100, name 2–100), injectable
 * faults, credits, and a log of every request.
 */

export const FAKE_MAVERA_KEY = 'mvra_test_fake0123456789abcdefghijklmnop';
const MINUTE_MS = 60_000;
const CREATE_CREDITS = 300;

/** Time that only moves when someone sleeps or advances it: rate limits and backoff without real waiting. */
export interface VirtualClock extends Clock {
  readonly advance: (ms: number) => void;
  /** Every sleep requested, in order. */
  readonly sleeps: number[];
}

export function createVirtualClock(start = Date.UTC(2026, 5, 1, 12)): VirtualClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      if (ms > 0) now += ms;
      return Promise.resolve();
    },
    advance: (ms) => {
      now += ms;
    },
    sleeps,
  };
}

export interface RecordedRequest {
  readonly method: string;
  /** Path below the API base, query excluded: `/personas`, `/personas/clx…`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Parsed JSON body; null when there was none. */
  readonly body: unknown;
  readonly authorization: string | null;
  readonly sandbox: boolean;
  /** Fake-clock time of arrival. */
  readonly at: number;
  /** What the fake answered. */
  status: number;
}

export interface StoredPersona {
  readonly id: string;
  name: string;
  description: string | null;
  readonly category: string;
  readonly is_custom: boolean;
  readonly created_at: number;
  pipeline_type: string | null;
  type: string | null;
  details: Record<string, unknown>;
}

type Method = 'GET' | 'POST' | 'PATCH';

interface Fault {
  readonly method: Method | undefined;
  readonly kind: 'fail' | 'delay' | 'rate_limit';
  readonly status: number;
  readonly code: string;
  readonly afterApply: boolean;
  readonly delayMs: number;
  readonly retryAfterSeconds: number;
}

export interface FakeMaveraOptions {
  readonly apiKey?: string;
  /** Requests per sliding minute before 429 (default 600). */
  readonly ratePerMinute?: number;
  readonly now?: () => number;
  /** Which of the reference's two list envelopes to answer with (default cursor). */
  readonly pagination?: 'cursor' | 'offset';
  /** List items carry `pipeline_type`, `type` and `details` too (the reference's list shows neither). */
  readonly listIncludesDetails?: boolean;
  /** Base (read-only) personas present from the start (default 2). */
  readonly basePersonas?: number;
}

export interface FailOptions {
  /** Only requests with this method consume the fault (default: the next request of any method). */
  readonly method?: Method;
  readonly code?: string;
  /** Carry the request out, then answer with the error (a server that failed after writing). */
  readonly afterApply?: boolean;
}

const TOP_LEVEL_FIELDS = new Set(['name', 'description', 'pipeline_type', 'type']);
const PIPELINE_TYPES = new Set(['north_star', 'intermediate', 'advanced']);
const PERSONA_TYPES = new Set(['B2B', 'B2C']);
const MAX_NESTING_LEVELS = 3;
const MAX_ARRAY_ITEMS = 100;

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'insufficient_credits',
  403: 'permission_error',
  404: 'invalid_request_error',
  429: 'rate_limit_error',
};

const DEFAULT_CODES: Readonly<Record<number, string>> = {
  400: 'invalid_field',
  401: 'invalid_api_key',
  402: 'credits_exhausted',
  403: 'forbidden',
  404: 'resource_not_found',
  429: 'rate_limit_exceeded',
  500: 'internal_error',
  503: 'service_unavailable',
};

export function maveraErrorBody(status: number, message: string, code?: string, param: string | null = null) {
  return {
    error: {
      message,
      type: ERROR_TYPES[status] ?? 'api_error',
      code: code ?? DEFAULT_CODES[status] ?? `http_${status}`,
      param,
    },
  };
}

class RequestRejection extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null,
  ) {
    super(message);
    this.name = 'RequestRejection';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Nesting and array limits, counting levels as the flusher does: the body object is level 1. */
function checkShape(value: unknown, level: number, path: string): void {
  if (typeof value !== 'object' || value === null) return;
  if (level > MAX_NESTING_LEVELS) {
    throw new RequestRejection(400, 'invalid_field', `Nested objects deeper than ${MAX_NESTING_LEVELS} levels`, path);
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY_ITEMS) {
      throw new RequestRejection(400, 'invalid_field', `Arrays may hold at most ${MAX_ARRAY_ITEMS} items`, path);
    }
    value.forEach((item, i) => {
      checkShape(item, level + 1, `${path}[${i}]`);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) checkShape(item, level + 1, path === '' ? key : `${path}.${key}`);
}

function checkPersonaBody(body: unknown, creating: boolean): Record<string, unknown> {
  if (!isObject(body)) throw new RequestRejection(400, 'invalid_field', 'Request body must be a JSON object', null);
  checkShape(body, 1, '');
  const name = body['name'];
  if (name === undefined) {
    if (creating) throw new RequestRejection(400, 'missing_field', 'name is required', 'name');
  } else if (typeof name !== 'string' || name.length < 2 || name.length > 100) {
    throw new RequestRejection(400, 'invalid_field', 'name must be 2-100 characters', 'name');
  }
  const pipelineType = body['pipeline_type'];
  if (pipelineType !== undefined && (typeof pipelineType !== 'string' || !PIPELINE_TYPES.has(pipelineType))) {
    throw new RequestRejection(400, 'invalid_field', 'pipeline_type is not one of the allowed values', 'pipeline_type');
  }
  const type = body['type'];
  if (type !== undefined && (typeof type !== 'string' || !PERSONA_TYPES.has(type))) {
    throw new RequestRejection(400, 'invalid_field', 'type must be B2B or B2C', 'type');
  }
  const description = body['description'];
  if (description !== undefined && typeof description !== 'string') {
    throw new RequestRejection(400, 'invalid_field', 'description must be a string', 'description');
  }
  return body;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

export class FakeMavera {
  readonly requests: RecordedRequest[] = [];
  /** Credits charged so far (300 per created persona; updates are not charged). */
  creditsUsed = 0;
  private readonly store = new Map<string, StoredPersona>();
  private readonly faults: Fault[] = [];
  private readonly window: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 1;
  private readonly apiKey: string;
  private readonly ratePerMinute: number;
  private readonly now: () => number;
  private readonly pagination: 'cursor' | 'offset';
  private readonly listIncludesDetails: boolean;
  private url_ = '';
  private readonly server = createServer((request, response) => {
    void this.handle(request, response);
  });

  constructor(options: FakeMaveraOptions = {}) {
    this.apiKey = options.apiKey ?? FAKE_MAVERA_KEY;
    this.ratePerMinute = options.ratePerMinute ?? 600;
    this.now = options.now ?? Date.now;
    this.pagination = options.pagination ?? 'cursor';
    this.listIncludesDetails = options.listIncludesDetails ?? false;
    const bases = ['Gen Z Consumer', 'Enterprise CFO', 'Millennial Parent', 'Small Business Owner'];
    for (let i = 0; i < (options.basePersonas ?? 2); i++) {
      this.insert({ name: bases[i % bases.length] ?? 'Base Persona', isCustom: false, category: 'Generational' });
    }
  }

  /** The API base URL, like `https://app.mavera.io/api/v1`. */
  get url(): string {
    return this.url_;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url_ = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1`;
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  /** Every persona, base ones included, in creation order. */
  personas(): StoredPersona[] {
    return [...this.store.values()];
  }

  customPersonas(): StoredPersona[] {
    return this.personas().filter((persona) => persona.is_custom);
  }

  /** A custom persona that exists before the test starts (e.g. created by an earlier run whose registry is lost). */
  addPersona(fields: { name: string; description?: string; details?: Record<string, unknown> }): StoredPersona {
    return this.insert({ ...fields, isCustom: true, category: 'Custom' });
  }

  /** The next `n` requests (of `method`, when given) fail with `status` and Mavera's error body. */
  failNext(n: number, status: number, options: FailOptions = {}): void {
    for (let i = 0; i < n; i++) {
      this.faults.push({
        method: options.method,
        kind: 'fail',
        status,
        code: options.code ?? DEFAULT_CODES[status] ?? `http_${status}`,
        afterApply: options.afterApply ?? false,
        delayMs: 0,
        retryAfterSeconds: 0,
      });
    }
  }

  /** The next `n` requests are carried out, but answered only after `ms` real milliseconds (client timeouts). */
  delayNext(n: number, ms: number, method?: Method): void {
    for (let i = 0; i < n; i++) {
      this.faults.push({
        method,
        kind: 'delay',
        status: 0,
        code: '',
        afterApply: true,
        delayMs: ms,
        retryAfterSeconds: 0,
      });
    }
  }

  /** The next `n` requests get 429 with `Retry-After: retryAfterSeconds`, whatever the window says. */
  rateLimitNext(n: number, retryAfterSeconds: number, method?: Method): void {
    for (let i = 0; i < n; i++) {
      this.faults.push({
        method,
        kind: 'rate_limit',
        status: 429,
        code: 'rate_limit_exceeded',
        afterApply: false,
        delayMs: 0,
        retryAfterSeconds,
      });
    }
  }

  /** Requests of one method and path prefix, e.g. `requestsTo('POST', '/personas')`. */
  requestsTo(method: Method, pathPrefix = '/personas'): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method && request.path.startsWith(pathPrefix));
  }

  private insert(fields: {
    name: string;
    description?: string;
    details?: Record<string, unknown>;
    isCustom: boolean;
    category: string;
  }): StoredPersona {
    const persona: StoredPersona = {
      id: `clx${String(this.nextId++).padStart(22, '0')}`,
      name: fields.name,
      description: fields.description ?? null,
      category: fields.category,
      is_custom: fields.isCustom,
      created_at: Math.floor(this.now() / 1000),
      pipeline_type: null,
      type: null,
      details: { ...fields.details },
    };
    this.store.set(persona.id, persona);
    return persona;
  }

  private takeFault(method: string): Fault | undefined {
    const index = this.faults.findIndex((fault) => fault.method === undefined || fault.method === method);
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  private rateHeaders(now: number): Record<string, string> {
    while (this.window.length > 0 && (this.window[0] ?? 0) <= now - MINUTE_MS) this.window.shift();
    const oldest = this.window[0] ?? now;
    return {
      'x-ratelimit-limit': String(this.ratePerMinute),
      'x-ratelimit-remaining': String(Math.max(0, this.ratePerMinute - this.window.length)),
      'x-ratelimit-reset': String(Math.ceil((oldest + MINUTE_MS) / 1000)),
    };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/api\/v1/, '');
    const now = this.now();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = text;
      }
    }
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      path,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: request.headers.authorization ?? null,
      sandbox: request.headers['x-mavera-sandbox'] === 'true',
      at: now,
      status: 0,
    };
    this.requests.push(recorded);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}, delayMs = 0): void => {
      recorded.status = status;
      const write = () => {
        if (response.destroyed) return;
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(payload));
      };
      if (delayMs <= 0) {
        write();
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        write();
      }, delayMs);
      this.timers.add(timer);
    };

    const authorization = recorded.authorization;
    if (authorization === null || !authorization.startsWith('Bearer ')) {
      send(401, maveraErrorBody(401, 'Missing API key', 'missing_api_key'));
      return;
    }
    if (authorization !== `Bearer ${this.apiKey}`) {
      send(401, maveraErrorBody(401, 'Invalid API key', 'invalid_api_key'));
      return;
    }

    let headers = this.rateHeaders(now);
    if (this.window.length >= this.ratePerMinute) {
      const retryAfter = Math.max(1, Math.ceil(((this.window[0] ?? now) + MINUTE_MS - now) / 1000));
      send(429, maveraErrorBody(429, 'Rate limit exceeded. Please retry later.'), {
        ...headers,
        'retry-after': String(retryAfter),
      });
      return;
    }
    const fault = this.takeFault(recorded.method);
    if (fault?.kind === 'rate_limit') {
      send(429, maveraErrorBody(429, 'Rate limit exceeded. Please retry later.'), {
        ...headers,
        'retry-after': String(fault.retryAfterSeconds),
      });
      return;
    }
    this.window.push(now);
    headers = this.rateHeaders(now);
    if (fault?.kind === 'fail' && !fault.afterApply) {
      send(fault.status, maveraErrorBody(fault.status, `Injected failure ${fault.status}`, fault.code), headers);
      return;
    }

    let status: number;
    let payload: unknown;
    try {
      [status, payload] = this.route(recorded.method, path, url.searchParams, body);
    } catch (error) {
      if (!(error instanceof RequestRejection)) throw error;
      send(error.status, maveraErrorBody(error.status, error.message, error.code, error.param), headers);
      return;
    }
    if (fault?.kind === 'fail') {
      send(fault.status, maveraErrorBody(fault.status, `Injected failure ${fault.status}`, fault.code), headers);
      return;
    }
    send(status, payload, headers, fault?.kind === 'delay' ? fault.delayMs : 0);
  }

  private route(method: string, path: string, query: URLSearchParams, body: unknown): [number, unknown] {
    if (path === '/personas' && method === 'GET') return [200, this.list(query)];
    if (path === '/personas' && method === 'POST') return [201, this.create(body)];
    const match = /^\/personas\/([^/]+)$/.exec(path);
    if (match !== null && method === 'PATCH') return [200, this.update(decodeURIComponent(match[1] ?? ''), body)];
    throw new RequestRejection(404, 'resource_not_found', `No route for ${method} ${path}`, null);
  }

  private list(query: URLSearchParams): unknown {
    const limitText = query.get('limit') ?? '50';
    const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= 100)) {
      throw new RequestRejection(400, 'invalid_field', 'limit must be between 1 and 100', 'limit');
    }
    let offset = 0;
    const cursor = query.get('cursor');
    if (cursor !== null) {
      const decoded = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (decoded === null) throw new RequestRejection(400, 'invalid_field', 'invalid cursor', 'cursor');
      offset = Number(decoded[1]);
    } else if (query.get('offset') !== null) {
      offset = Number(query.get('offset'));
    }
    const all = this.personas();
    const data = all.slice(offset, offset + limit).map((persona) => this.listItem(persona));
    const hasMore = offset + limit < all.length;
    if (this.pagination === 'offset') {
      return { object: 'list', data, total: all.length, limit, offset, has_more: hasMore };
    }
    const nextCursor = hasMore ? Buffer.from(`o:${offset + limit}`).toString('base64url') : null;
    return { object: 'list', data, has_more: hasMore, next_cursor: nextCursor };
  }

  private listItem(persona: StoredPersona): unknown {
    const item = {
      id: persona.id,
      object: 'persona',
      name: persona.name,
      category: persona.category,
      description: persona.description,
      is_custom: persona.is_custom,
      is_expert: false,
      created_at: persona.created_at,
    };
    if (!this.listIncludesDetails) return item;
    return { ...item, pipeline_type: persona.pipeline_type, type: persona.type, details: persona.details };
  }

  private create(body: unknown): unknown {
    const fields = checkPersonaBody(body, true);
    const persona = this.insert({ name: String(fields['name']), isCustom: true, category: 'Custom' });
    this.apply(persona, fields);
    this.creditsUsed += CREATE_CREDITS;
    return this.customPersona(persona);
  }

  private update(id: string, body: unknown): unknown {
    const persona = this.store.get(id);
    if (persona === undefined) throw new RequestRejection(404, 'resource_not_found', `Persona ${id} not found`, 'id');
    if (!persona.is_custom) throw new RequestRejection(403, 'forbidden', 'Base personas cannot be modified', 'id');
    this.apply(persona, checkPersonaBody(body, false));
    return this.customPersona(persona);
  }

  /** PATCH semantics as the reference's example reads: a field sent replaces the stored one, arrays included. */
  private apply(persona: StoredPersona, fields: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(fields)) {
      if (!TOP_LEVEL_FIELDS.has(key)) {
        persona.details[key] = value;
        continue;
      }
      if (key === 'name') persona.name = String(value);
      if (key === 'description') persona.description = String(value);
      if (key === 'pipeline_type') persona.pipeline_type = String(value);
      if (key === 'type') persona.type = String(value);
    }
  }

  private customPersona(persona: StoredPersona): unknown {
    return {
      id: persona.id,
      object: 'custom_persona',
      name: persona.name,
      category: persona.category,
      description: persona.description,
      pipeline_type: persona.pipeline_type,
      type: persona.type,
      is_custom: true,
      created_at: persona.created_at,
      credits_charged: CREATE_CREDITS,
      details: persona.details,
    };
  }
}

export async function startFakeMavera(options: FakeMaveraOptions = {}): Promise<FakeMavera> {
  return new FakeMavera(options).listen();
}
