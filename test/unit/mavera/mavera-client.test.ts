import { afterEach, describe, expect, it } from 'vitest';
import { MaveraClient, type MaveraRequestEvent } from '../../../src/adapters/mavera/mavera-client.js';
import { MaveraError } from '../../../src/adapters/mavera/mavera-error.js';
import { FAKE_MAVERA_KEY, startFakeMavera, type FakeMavera } from '../../support/fake-mavera.js';

const payload = {
  name: 'Enterprise Customer',
  description: 'Revenue tier: enterprise. 3 customers, avg MRR $12,000.',
  pipeline_type: 'advanced',
  type: 'B2B',
  key_differentiators: ['Revenue tier: enterprise', 'Customers: 3'],
} as const;

let fake: FakeMavera | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: Parameters<typeof startFakeMavera>[0] = {}): Promise<FakeMavera> {
  fake = await startFakeMavera(options);
  return fake;
}

function client(server: FakeMavera, overrides: Partial<ConstructorParameters<typeof MaveraClient>[0]> = {}) {
  return new MaveraClient({ apiKey: FAKE_MAVERA_KEY, baseUrl: server.url, ...overrides });
}

async function failure(promise: Promise<unknown>): Promise<MaveraError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MaveraError) return error;
    throw error;
  }
  throw new Error('expected a MaveraError');
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('MaveraClient against the fake Mavera', () => {
  it('creates a persona with bearer auth and the sandbox header, and returns its id and status', async () => {
    const server = await start();
    const result = await client(server, { sandbox: true }).createPersona(payload);
    expect(result.httpStatus).toBe(201);
    expect(result.persona.id).toBe('clx0000000000000000000003');
    expect(result.persona.credits_charged).toBe(300);
    expect(server.requests).toEqual([
      {
        method: 'POST',
        path: '/personas',
        query: {},
        body: payload,
        authorization: `Bearer ${FAKE_MAVERA_KEY}`,
        sandbox: true,
        at: server.requests[0]!.at,
        status: 201,
      },
    ]);
    expect(server.creditsUsed).toBe(300);
  });

  it('sends no sandbox header unless asked', async () => {
    const server = await start();
    await client(server).createPersona(payload);
    expect(server.requests[0]!.sandbox).toBe(false);
  });

  it('PATCHes /personas/{id} and reads the updated persona', async () => {
    const server = await start();
    const api = client(server);
    const created = await api.createPersona(payload);
    const updated = await api.updatePersona(created.persona.id, {
      ...payload,
      pains: ['10% of customers are delinquent'],
    });
    expect(updated.httpStatus).toBe(200);
    expect(updated.persona.id).toBe(created.persona.id);
    expect(server.requestsTo('PATCH').map((request) => request.path)).toEqual(['/personas/clx0000000000000000000003']);
    expect(server.customPersonas()[0]!.details).toEqual({
      key_differentiators: ['Revenue tier: enterprise', 'Customers: 3'],
      pains: ['10% of customers are delinquent'],
    });
  });

  it('lists every page by following next_cursor', async () => {
    const server = await start();
    for (let i = 0; i < 230; i++) server.addPersona({ name: `Persona ${i}` });
    const personas = await client(server).listPersonas();
    expect(personas).toHaveLength(232);
    expect(personas.filter((persona) => persona.is_custom === false).map((persona) => persona.name)).toEqual([
      'Gen Z Consumer',
      'Enterprise CFO',
    ]);
    const queries = server.requestsTo('GET').map((request) => request.query);
    expect(queries).toEqual([
      { limit: '100' },
      { limit: '100', cursor: Buffer.from('o:100').toString('base64url') },
      { limit: '100', cursor: Buffer.from('o:200').toString('base64url') },
    ]);
  });

  it('lists every page of the offset envelope too', async () => {
    const server = await start({ pagination: 'offset', basePersonas: 0 });
    for (let i = 0; i < 150; i++) server.addPersona({ name: `Persona ${i}` });
    const personas = await client(server).listPersonas();
    expect(personas.map((persona) => persona.name).slice(-2)).toEqual(['Persona 148', 'Persona 149']);
    expect(server.requestsTo('GET').map((request) => request.query)).toEqual([
      { limit: '100' },
      { limit: '100', offset: '100' },
    ]);
  });

  it('stops a list whose cursor repeats instead of looping', async () => {
    const page = { object: 'list', data: [{ id: 'clx1', name: 'A persona' }], has_more: true, next_cursor: 'same' };
    const api = new MaveraClient({
      apiKey: FAKE_MAVERA_KEY,
      baseUrl: 'http://mavera.invalid/api/v1',
      fetch: () => Promise.resolve(jsonResponse(200, page)),
    });
    const error = await failure(api.listPersonas());
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(
      'Mavera GET /personas failed (200): unexpected response body: next_cursor repeats an earlier cursor',
    );
  });

  it('reports a wrong key as a non-retryable 401 with Mavera’s error body', async () => {
    const server = await start();
    const error = await failure(client(server, { apiKey: 'mvra_live_wrong_key_0123456789abcdef' }).listPersonas());
    expect(error).toMatchObject({
      kind: 'http',
      endpoint: 'GET /personas',
      status: 401,
      code: 'invalid_api_key',
      retryable: false,
      retryAfterMs: null,
      ambiguous: false,
    });
    expect(JSON.parse(error.body!)).toEqual({
      error: { message: 'Invalid API key', type: 'authentication_error', code: 'invalid_api_key', param: null },
    });
    expect(error.message).not.toContain('mvra_live_wrong_key');
  });

  it('reports a name outside 2–100 characters as a 400 naming the field', async () => {
    const server = await start();
    const error = await failure(client(server).createPersona({ ...payload, name: 'A' }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_field', param: 'name', retryable: false });
    expect(server.customPersonas()).toEqual([]);
  });

  it('rejects nesting deeper than 3 levels and arrays over 100 items with 400', async () => {
    const server = await start();
    const api = client(server);
    const deep = await failure(api.createPersona({ ...payload, extra: { a: { b: { c: 1 } } } }));
    expect(deep).toMatchObject({ status: 400, code: 'invalid_field', param: 'extra.a.b' });
    const long = await failure(
      api.createPersona({ ...payload, pains: Array.from({ length: 101 }, (_, i) => `p${i}`) }),
    );
    expect(long).toMatchObject({ status: 400, code: 'invalid_field', param: 'pains' });
  });

  it('reads Retry-After on a 429 and marks it retryable', async () => {
    const server = await start();
    server.rateLimitNext(1, 7);
    const error = await failure(client(server).createPersona(payload));
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryable: true, retryAfterMs: 7000 });
  });

  it('marks 5xx retryable and ambiguous', async () => {
    const server = await start();
    server.failNext(1, 503);
    const error = await failure(client(server).createPersona(payload));
    expect(error).toMatchObject({ status: 503, code: 'service_unavailable', retryable: true, ambiguous: true });
  });

  it('times out a request that gets no answer in time; the server may still have carried it out', async () => {
    const server = await start();
    server.delayNext(1, 1_000);
    const error = await failure(client(server, { timeoutMs: 100 }).createPersona(payload));
    expect(error).toMatchObject({ kind: 'timeout', status: null, code: 'timeout', retryable: true, ambiguous: true });
    expect(error.statusLabel).toBe('timeout');
    expect(server.customPersonas().map((persona) => persona.name)).toEqual(['Enterprise Customer']);
  });

  it('reports a refused connection as a retryable network error', async () => {
    const server = await start();
    const url = server.url;
    await server.close();
    fake = undefined;
    const error = await failure(new MaveraClient({ apiKey: FAKE_MAVERA_KEY, baseUrl: url }).listPersonas());
    expect(error).toMatchObject({ kind: 'network', status: null, code: 'network_error', retryable: true });
  });

  it('rejects a 2xx body that is not a persona, naming the field', async () => {
    const api = new MaveraClient({
      apiKey: FAKE_MAVERA_KEY,
      baseUrl: 'http://mavera.invalid/api/v1',
      fetch: () => Promise.resolve(jsonResponse(201, { id: 42, name: 'Enterprise Customer' })),
    });
    const error = await failure(api.createPersona(payload));
    expect(error).toMatchObject({ kind: 'invalid_response', status: 201, code: 'invalid_response', retryable: false });
    expect(error.message).toBe(
      'Mavera POST /personas failed (201): unexpected response body: id: Invalid input: expected string, received number',
    );
  });

  it('tells the observer about every request with its endpoint and status', async () => {
    const server = await start();
    server.failNext(1, 500);
    const events: MaveraRequestEvent[] = [];
    const api = client(server, { observer: (event) => events.push(event) });
    await failure(api.createPersona(payload));
    await api.createPersona(payload);
    await api.listPersonas();
    expect(events.map(({ endpoint, status }) => ({ endpoint, status }))).toEqual([
      { endpoint: 'POST /personas', status: '500' },
      { endpoint: 'POST /personas', status: '201' },
      { endpoint: 'GET /personas', status: '200' },
    ]);
  });
});
