import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonValue } from '../../src/domain/segment/model.js';

/**
 * A local stand-in for the Segment Profile API's traits route:
 * `GET /v1/spaces/<space>/collections/users/profiles/user_id:<id>/traits?limit=&next=&verbose=`, Basic auth with
 * the token as username and an empty password, cursor paging (`cursor.has_more`, `cursor.next`, where `next` is the
 * key the next page starts at, as opaque to the client as the real one), `verbose=true` values as
 * `{value, source_id, updated_at}`, 404 `not_found` for unknown profiles, 429 with Retry-After on chosen requests.
 */
export interface FakeTrait {
  readonly value: JsonValue;
  /** ISO-8601; reported with verbose=true. */
  readonly updatedAt: string;
}

export interface RecordedProfileRequest {
  readonly index: number;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly at: number;
  readonly authorization: string | undefined;
  status: number;
}

export interface FakeProfileApiOptions {
  readonly spaceId: string;
  readonly token: string;
  /** Traits by user id, in the order pages serve them. */
  readonly profiles: Readonly<Record<string, Readonly<Record<string, FakeTrait>>>>;
  readonly throttle?: (request: RecordedProfileRequest) => string | null;
  /** Called as each request arrives, before it is answered. */
  readonly onRequest?: (request: RecordedProfileRequest) => void;
  /** Answer these user ids with this status (e.g. 500 to test failures). */
  readonly failUsers?: Readonly<Record<string, number>>;
}

export interface FakeProfileApi {
  readonly url: string;
  readonly requests: RecordedProfileRequest[];
  close(): Promise<void>;
}

export async function startFakeSegmentProfileApi(options: FakeProfileApiOptions): Promise<FakeProfileApi> {
  const requests: RecordedProfileRequest[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${options.token}:`).toString('base64')}`;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const recorded: RecordedProfileRequest = {
      index: requests.length + 1,
      path: url.pathname,
      query: url.searchParams,
      at: Date.now(),
      authorization: request.headers.authorization,
      status: 0,
    };
    requests.push(recorded);
    options.onRequest?.(recorded);
    request.resume();
    recorded.status = answer(response, recorded, options, expectedAuth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

function answer(
  response: ServerResponse,
  recorded: RecordedProfileRequest,
  options: FakeProfileApiOptions,
  expectedAuth: string,
): number {
  if (recorded.authorization !== expectedAuth) {
    return send(response, 401, { error: { code: 'authentication_error', message: 'invalid token' } });
  }
  const retryAfter = options.throttle?.(recorded) ?? null;
  if (retryAfter !== null) {
    return send(
      response,
      429,
      { error: { code: 'rate_limit_error', message: 'slow down' } },
      { 'retry-after': retryAfter },
    );
  }
  const match = /^\/v1\/spaces\/([^/]+)\/collections\/users\/profiles\/([^/]+)\/traits$/.exec(recorded.path);
  const key = decodeURIComponent(match?.[2] ?? '');
  if (match === null || decodeURIComponent(match[1] ?? '') !== options.spaceId || !key.startsWith('user_id:')) {
    return send(response, 404, { error: { code: 'not_found', message: 'Profile was not found.' } });
  }
  const userId = key.slice('user_id:'.length);
  const failure = options.failUsers?.[userId];
  if (failure !== undefined) return send(response, failure, { error: { code: 'internal', message: 'boom' } });
  const profile = options.profiles[userId];
  if (profile === undefined)
    return send(response, 404, { error: { code: 'not_found', message: 'Profile was not found.' } });

  const limit = Math.min(Math.max(Number(recorded.query.get('limit') ?? '10'), 1), 200);
  const keys = Object.keys(profile);
  const next = recorded.query.get('next');
  const start = next === null ? 0 : Math.max(0, keys.indexOf(next));
  const pageKeys = keys.slice(start, start + limit);
  const verbose = recorded.query.get('verbose') === 'true';
  const traits: Record<string, unknown> = {};
  for (const name of pageKeys) {
    const trait = profile[name]!;
    traits[name] = verbose ? { value: trait.value, source_id: 'src_fake', updated_at: trait.updatedAt } : trait.value;
  }
  const following = keys[start + limit];
  return send(response, 200, {
    traits,
    cursor: {
      url: recorded.path,
      has_more: following !== undefined,
      next: following ?? '',
      limit,
    },
  });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${Date.now()}`, ...headers });
  response.end(JSON.stringify(body));
  return status;
}
