/**
 * A seeded random fuzzer of the connectors' HTTP routes, run as a process of its own (`node hostile-fuzzer.ts
 * <config JSON>`, Node's type stripping: builtins only) so its CPU work does not slow the client that measures the
 * legitimate traffic. It holds no secret: only what an attacker could hold (a public write key, signatures captured
 * off the wire). Every body it sends to an authenticated route is unpublishable by construction (no userId,
 * anonymousId or valid signature), so anything the fuzz gets onto a topic is a finding. Prints one JSON line:
 * {@link FuzzReport}.
 */
import { request } from 'node:http';

export interface FuzzConfig {
  readonly port: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly concurrency: number;
  /** An accepted, public write key (as analytics.js ships to browsers). */
  readonly publicWriteKey: string;
  /** A Stripe-Signature and an X-Signature captured from legitimate deliveries. */
  readonly capturedStripeSignature: string;
  readonly capturedSegmentSignature: string;
  /** Secrets and PII to plant in headers and bodies; none may reach the logs. */
  readonly planted: readonly string[];
}

export interface FuzzReport {
  readonly requests: number;
  /** Status → count; `closed` when the server closed the connection, `client-timeout` when we gave up. */
  readonly histogram: Record<string, number>;
  /** Requests that got a 5xx, or no answer when one was due: the method, path and a short body description. */
  readonly failures: readonly string[];
}

const ROUTES = [
  '/webhooks/stripe',
  '/webhooks/segment',
  ...['track', 'identify', 'group', 'page', 'screen', 'alias', 'batch', 'import'].map((name) => `/v1/${name}`),
  ...['t', 'i', 'g', 'p', 's', 'a', 'b'].map((name) => `/v1/${name}`),
];
const ODD_PATHS = [
  '/webhooks/stripe/',
  '//webhooks/segment',
  '/v1/TRACK',
  '/v1/track?writeKey=x&__proto__[a]=1',
  '/v1/../webhooks/stripe',
  '/v1/%00',
  '/v1/%E0%A4%A',
  '/webhooks/stripe%2F..',
  '/healthz',
  '/metrics',
  '/' + 'a'.repeat(4000),
];
const METHODS = ['POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND'];
const CONTENT_TYPES = [
  undefined,
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'application/json; charset=utf-16',
  '\u00ff/\u00fe',
];
/** Keys that break naive merges; never userId, anonymousId or previousId (see the module comment). */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'then', ''];
const STRINGS = [
  '\ud800',
  '\udfff\ud800',
  '\u0000',
  '\u202e\u2066',
  '💥'.repeat(50),
  'é'.repeat(3),
  '%s%n%x',
  '${jndi:ldap://x}',
  '1e999999',
  '-0',
];

/** mulberry32: a tiny PRNG whose whole state is the seed, so a printed seed replays the run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzer(config: FuzzConfig) {
  const random = prng(config.seed);
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => random() < p;
  const planted = () => pick(config.planted);

  function randomValue(depth: number): unknown {
    switch (int(depth > 3 ? 5 : 8)) {
      case 0:
        return pick(STRINGS);
      case 1:
        return planted();
      case 2:
        return int(3) === 0 ? Number.MAX_SAFE_INTEGER * 1e10 : -int(1e9);
      case 3:
        return chance(0.5) ? null : true;
      case 4:
        return '9999-12-31T23:59:59Z';
      case 5:
        return [randomValue(depth + 1), randomValue(depth + 1)];
      default:
        return { [pick(HOSTILE_KEYS)]: randomValue(depth + 1), planted: planted() };
    }
  }

  /** A Segment-like or Stripe-like payload (never publishable: no user id, no signature) with hostile mutations. */
  function mutatedPayload(): Record<string, unknown> {
    const now = new Date().toISOString();
    const base: Record<string, unknown> = chance(0.5)
      ? { type: 'track', event: 'Fuzz', messageId: `fuzz-${String(int(1e9))}`, timestamp: now, properties: {} }
      : { id: `evt_fuzz_${String(int(1e9))}`, object: 'event', type: 'customer.subscription.created', data: {} };
    if (chance(0.3)) base['writeKey'] = chance(0.5) ? config.publicWriteKey : planted();
    for (let i = int(4); i >= 0; i -= 1)
      base[chance(0.7) ? pick(HOSTILE_KEYS) : pick(Object.keys(base))] = randomValue(0);
    if (chance(0.2)) base['batch'] = Array.from({ length: int(50) }, () => ({ ...base, batch: undefined }));
    return base;
  }

  /** Raw JSON text with duplicate/`__proto__` keys, which JSON.stringify of an object cannot produce. */
  function rawProtoJson(): string {
    return `{"__proto__":{"polluted":true,"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"type":"track","properties":{"__proto__":[]},"type":"identify","email":"${planted()}"}`;
  }

  function nested(depth: number): string {
    return chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  }

  function body(): { bytes: Buffer; what: string } {
    switch (int(9)) {
      case 0: {
        const size = pick([0, 1, 17, 4096, 70_000]);
        return { bytes: Buffer.from(Array.from({ length: size }, () => int(256))), what: `random ${String(size)} B` };
      }
      case 1: {
        const text = JSON.stringify(mutatedPayload());
        return { bytes: Buffer.from(text.slice(0, int(text.length))), what: 'truncated JSON' };
      }
      case 2:
        return { bytes: Buffer.from(JSON.stringify(mutatedPayload())), what: 'mutated payload' };
      case 3: {
        const depth = pick([63, 64, 65, 1_000, 10_000, 300_000]);
        return { bytes: Buffer.from(nested(depth)), what: `nested ${String(depth)}` };
      }
      case 4: {
        const size = pick([33_000, 66_000, 600_000, 2_000_000]);
        const text = JSON.stringify({ type: 'track', event: 'x'.repeat(size), email: planted() });
        return { bytes: Buffer.from(text), what: `huge string ${String(size)}` };
      }
      case 5: {
        const text = JSON.stringify({ type: 'track', event: pick(STRINGS), properties: { s: pick(STRINGS) } });
        const bytes = Buffer.from(text);
        // Invalid UTF-8 spliced in: overlong NUL (C0 80), a BOM-like FF FE, a lone continuation byte.
        const bad = Buffer.from(pick([[0xc0, 0x80], [0xff, 0xfe], [0x80], [0xed, 0xa0, 0x80]]));
        const at = int(bytes.length);
        return { bytes: Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)]), what: 'bad unicode' };
      }
      case 6:
        return { bytes: Buffer.from(rawProtoJson()), what: 'prototype keys' };
      case 7:
        return {
          bytes: Buffer.from(pick(['', 'null', '[]', '{}', '""', '1', '{"batch":null}', '{"batch":{}}'])),
          what: 'tiny',
        };
      default:
        return {
          bytes: Buffer.from(`[${JSON.stringify(mutatedPayload())},${nested(100)}]`),
          what: 'array with nesting',
        };
    }
  }

  function headers(length: number): { headers: Record<string, string>; lies: boolean } {
    const out: Record<string, string> = {};
    const type = pick(CONTENT_TYPES);
    if (type !== undefined) out['content-type'] = type;
    const now = Math.floor(Date.now() / 1000);
    const stripe = pick([
      undefined,
      config.capturedStripeSignature,
      `t=${String(now)},v1=${'0'.repeat(64)}`,
      't=0,v1=zz',
      `t=${String(now)},v1=${planted()}`,
      `t=-1,v0=${'a'.repeat(64)},v1=`,
      'x'.repeat(8_000),
    ]);
    if (stripe !== undefined) out['stripe-signature'] = stripe;
    const xsig = pick([
      undefined,
      config.capturedSegmentSignature,
      'e'.repeat(40),
      'E'.repeat(40),
      'zz',
      '0'.repeat(41),
    ]);
    if (xsig !== undefined) out['x-signature'] = xsig;
    if (chance(0.3)) out['x-persona-stream-token'] = chance(0.5) ? planted() : 'not-the-token';
    const auth = pick([
      undefined,
      `Basic ${Buffer.from(`${config.publicWriteKey}:`).toString('base64')}`,
      `Basic ${Buffer.from(`${planted()}:`).toString('base64')}`,
      'Basic !!!not-base64',
      `Bearer ${planted()}`,
    ]);
    if (auth !== undefined) out['authorization'] = auth;
    if (chance(0.2)) out['cookie'] = `session=${planted()}`;
    if (chance(0.2)) out['x-api-key'] = planted();
    // A length the body does not have: the server must answer from the header or time the request out, not crash.
    const declared = pick([undefined, undefined, undefined, '-1', '99999999999999', '0', String(length + 10)]);
    let lies = false;
    if (declared !== undefined) {
      out['content-length'] = declared;
      lies = Number(declared) > length;
    }
    return { headers: out, lies };
  }

  return { int, pick, chance, body, headers };
}

type Outcome = number | 'closed' | 'client-timeout';

function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  bytes: Buffer,
  timeoutMs: number,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    try {
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (response) => {
        response.resume();
        response.on('end', () => {
          done(response.statusCode ?? 0);
        });
        response.on('error', () => {
          done(response.statusCode ?? 'closed');
        });
      });
      req.setTimeout(timeoutMs, () => {
        done('client-timeout');
        req.destroy();
      });
      req.on('error', () => {
        done('closed');
      });
      req.end(method === 'GET' || method === 'HEAD' ? undefined : bytes);
    } catch {
      // Node's client refused the request itself (say, a header it will not send): nothing reached the server.
      done('closed');
    }
  });
}

export async function runFuzz(config: FuzzConfig): Promise<FuzzReport> {
  const fuzz = fuzzer(config);
  const until = Date.now() + config.durationMs;
  const histogram: Record<string, number> = {};
  const failures: string[] = [];
  let requests = 0;
  const worker = async () => {
    while (Date.now() < until && requests < config.maxRequests) {
      requests += 1;
      const method = fuzz.pick(METHODS);
      const path = fuzz.chance(0.85) ? fuzz.pick(ROUTES) : fuzz.pick(ODD_PATHS);
      const { bytes, what } = fuzz.body();
      const { headers, lies } = fuzz.headers(bytes.length);
      const outcome = await send(config.port, method, path, headers, bytes, lies ? 1_500 : 10_000);
      const key = String(outcome);
      histogram[key] = (histogram[key] ?? 0) + 1;
      // A 5xx is a failure; so is no answer at all, unless we declared more bytes than we sent (the server is
      // right to wait for them) or sent a body it refuses unread (it may close the connection on it).
      const unanswered = outcome === 'client-timeout' && !lies;
      if ((typeof outcome === 'number' && outcome >= 500) || unanswered) {
        failures.push(`${method} ${path.slice(0, 60)} [${what}] ${JSON.stringify(Object.keys(headers))} → ${key}`);
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  return { requests, histogram, failures };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const config = JSON.parse(process.argv[2] ?? '{}') as FuzzConfig;
  const report = await runFuzz(config);
  process.stdout.write(JSON.stringify(report) + '\n');
}
