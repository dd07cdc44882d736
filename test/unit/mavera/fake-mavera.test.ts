import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, FAKE_MAVERA_KEY, startFakeMavera, type FakeMavera } from '../../support/fake-mavera.js';

/** The fake's own contract: the client and flusher tests are only as good as it is. */

let fake: FakeMavera | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const auth = { authorization: `Bearer ${FAKE_MAVERA_KEY}`, 'content-type': 'application/json' };

async function call(
  server: FakeMavera,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe('fake Mavera', () => {
  it('answers a request without a key with 401 in Mavera’s error envelope', async () => {
    fake = await startFakeMavera();
    const answer = await call(fake, 'GET', '/personas', undefined, { 'content-type': 'application/json' });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: { message: 'Missing API key', type: 'authentication_error', code: 'missing_api_key', param: null },
    });
  });

  it('limits requests per sliding minute with 429, Retry-After and X-RateLimit-* headers', async () => {
    const clock = createVirtualClock(Date.UTC(2026, 5, 1, 12));
    fake = await startFakeMavera({ ratePerMinute: 2, now: clock.now });
    const first = await call(fake, 'GET', '/personas');
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    clock.advance(20_000);
    const second = await call(fake, 'GET', '/personas');
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(second.headers.get('x-ratelimit-reset')).toBe(String(Date.UTC(2026, 5, 1, 12, 1) / 1000));
    clock.advance(10_000);
    const limited = await call(fake, 'GET', '/personas');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.body).toEqual({
      error: {
        message: 'Rate limit exceeded. Please retry later.',
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        param: null,
      },
    });
    clock.advance(30_000);
    expect((await call(fake, 'GET', '/personas')).status).toBe(200);
  });

  it('counts 300 credits per created persona and none per update', async () => {
    fake = await startFakeMavera();
    const created = await call(fake, 'POST', '/personas', { name: 'Smb Customer', description: 'd' });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    expect((await call(fake, 'PATCH', `/personas/${id}`, { description: 'e' })).status).toBe(200);
    expect(fake.creditsUsed).toBe(300);
    expect(fake.customPersonas().map((persona) => persona.description)).toEqual(['e']);
  });

  it('refuses to modify base personas (403) and unknown ids (404)', async () => {
    fake = await startFakeMavera();
    const base = fake.personas()[0]!;
    expect((await call(fake, 'PATCH', `/personas/${base.id}`, { name: 'Mine now' })).body).toEqual({
      error: {
        message: 'Base personas cannot be modified',
        type: 'permission_error',
        code: 'forbidden',
        param: 'id',
      },
    });
    expect((await call(fake, 'PATCH', '/personas/clx_missing', { name: 'Gone' })).status).toBe(404);
  });

  it('injects failures that happen before or after the request was carried out', async () => {
    fake = await startFakeMavera();
    fake.failNext(1, 500, { method: 'POST' });
    fake.failNext(1, 502, { method: 'POST', afterApply: true });
    expect((await call(fake, 'GET', '/personas')).status).toBe(200);
    expect((await call(fake, 'POST', '/personas', { name: 'One' })).status).toBe(500);
    expect((await call(fake, 'POST', '/personas', { name: 'Two' })).status).toBe(502);
    expect(fake.customPersonas().map((persona) => persona.name)).toEqual(['Two']);
    expect(fake.requests.map((request) => request.status)).toEqual([200, 500, 502]);
  });
});
