import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Analytics } from '@segment/analytics-node';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/adapters/http/http-server.js';
import { EventPublisher, PublishError, type EventSink } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { segmentConnectorCommand } from '../../src/cli/commands/segment-connector.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import type { SegmentRequestResult } from '../../src/connectors/segment/segment-decision.js';
import { admission } from '../../src/connectors/rate-limits.js';
import { segmentRoutes } from '../../src/connectors/segment/segment-connector.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { freePort } from '../support/free-port.js';
import { exitOf, startCli, waitUntil } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';
import { memoryLogger } from '../support/memory-logger.js';

const LOOPBACK = { port: 0, host: '127.0.0.1' };

const WRITE_KEY = 'wk_test_8Jd2';
const OLD_WRITE_KEY = 'wk_test_previous';
const SECRET = 'whsec_test_segment_fixture';
const F5_SIGNATURE = '3decb09a91c54970e1c9f3df9e34b7566aabd75b';
const f5Body = readFileSync(new URL('../fixtures/segment/f5-webhook-actions-track.body', import.meta.url));
const f5Batched = readFileSync(
  new URL('../fixtures/segment-connector/f5-webhook-actions-batched.body', import.meta.url),
);
const BATCH_TOKEN = 'batch-token-test-1';
const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const logger = createLogger({ level: 'silent', name: 'test' });

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const sign = (body: string | Buffer) => createHmac('sha1', SECRET).update(body).digest('hex');

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

async function post(
  port: number,
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${String(port)}${path}`, { method: 'POST', headers, body });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

/** The HTTP status of a GET, or 0 while nothing listens (or nothing answers within `timeoutMs`). */
async function statusOf(url: string, timeoutMs = 10_000): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })).status;
  } catch {
    return 0;
  }
}

/** How long the denial-of-service test throws hostile bodies: past the 5 s the event-loop liveness check allows. */
const ATTACK_MS = 8_000;

/**
 * Two senders posting valid JSON nested 8 MiB deep (an array, then objects) with a made-up X-Signature, back to back
 * until argv[2] ms have passed; prints every status (0: the connection closed). A process of its own, so its work does
 * not slow the client that measures.
 */
const ATTACKERS = `
const [url, ms] = [process.argv[1], Number(process.argv[2])];
const size = 8 * 1024 * 1024;
const array = Buffer.concat([Buffer.alloc(size / 2, '['), Buffer.alloc(size / 2, ']')]);
const depth = Math.floor((size - 1) / 6);
const objects = Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
const until = Date.now() + ms;
const statuses = [];
const send = async (body) => {
  while (Date.now() < until) {
    try {
      const headers = { 'content-type': 'application/json', 'x-signature': 'e'.repeat(40) };
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10000) });
      await response.arrayBuffer();
      statuses.push(response.status);
    } catch {
      statuses.push(0);
    }
  }
};
await Promise.all([send(array), send(objects)]);
process.stdout.write(JSON.stringify(statuses));
`;

const io = (env: Record<string, string>): CliIo => ({
  stdout: () => {},
  stderr: () => {},
  readInput: () => Promise.reject(new Error('no input')),
  now: () => Date.now(),
  env,
});

interface TopicRecord {
  readonly key: string;
  readonly event: CanonicalEvent;
  readonly payload: Record<string, unknown>;
}

describe('segment connector against a broker', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let publisher: EventPublisher;
  let server: RunningServer;
  let topic: string;
  const results: [string, SegmentRequestResult][] = [];
  const logged = memoryLogger();
  let consumerGroups = 0;

  /** Records on the topic: the sum of the partitions' high watermarks. */
  async function highWatermark(): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  }

  /** Every record currently on the topic, read by a fresh consumer group. */
  async function readTopic(): Promise<TopicRecord[]> {
    const total = await highWatermark();
    const records: TopicRecord[] = [];
    const consumer = kafka.consumer({
      groupId: `${broker.prefix}segment-test-${String(++consumerGroups)}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`read ${String(records.length)} of ${String(total)} records`));
        }, 20_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            const event = await serde.decode(message.value ?? Buffer.alloc(0));
            const payload = JSON.parse(event.payload) as Record<string, unknown>;
            records.push({ key: message.key?.toString() ?? '', event, payload });
            if (records.length >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return records;
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    topic = `${broker.prefix}segment.events`;
    await broker.createTopics([{ name: topic, partitions: 3 }]);
    kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
    const routes = segmentRoutes({
      publisher,
      topic,
      sharedSecrets: [SECRET],
      batchTokens: [BATCH_TOKEN],
      writeKeys: [WRITE_KEY, OLD_WRITE_KEY],
      logger: logged.logger,
      now: () => Date.now(),
      onResult: (route, result) => results.push([route, result]),
    });
    server = await startHttpServer(routes, LOOPBACK, logger);
  }, 120_000);

  afterAll(async () => {
    await server.close();
    await publisher.disconnect();
    await admin.disconnect();
    await broker.stop();
  });

  it('takes batches from @segment/analytics-node and publishes canonical events keyed by userId, else anonymousId', async () => {
    const before = await highWatermark();
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: `http://127.0.0.1:${String(server.port)}`,
      path: '/v1/batch',
      flushAt: 4,
      flushInterval: 50,
    });
    const failures: unknown[] = [];
    analytics.on('error', (error) => failures.push(error));
    analytics.identify({ userId: 'sdk-user-1', traits: { plan: 'Growth', email: 'a@example.com' } });
    for (let i = 0; i < 5; i++) analytics.track({ userId: 'sdk-user-1', event: 'Feature Used', properties: { i } });
    analytics.track({ anonymousId: 'sdk-anon-1', event: 'Pricing Viewed' });
    analytics.page({ anonymousId: 'sdk-anon-1', name: 'Pricing' });
    analytics.group({ userId: 'sdk-user-2', groupId: 'acct_1', traits: { name: 'Kestrel Labs' } });
    analytics.alias({ userId: 'sdk-user-2', previousId: 'sdk-anon-1' });
    await analytics.closeAndFlush();
    expect(failures).toEqual([]);
    expect(await highWatermark()).toBe(before + 10);

    const records = (await readTopic()).filter((record) => record.event.entity_key.startsWith('sdk-'));
    const nameOf = (record: TopicRecord) => {
      const name = record.payload['event'] ?? record.payload['name'];
      return typeof name === 'string' ? name : '';
    };
    const summary = records.map((record) => `${record.key} ${record.event.type} ${nameOf(record)}`).sort();
    expect(summary).toEqual([
      'sdk-anon-1 page Pricing',
      'sdk-anon-1 track Pricing Viewed',
      'sdk-user-1 identify ',
      'sdk-user-1 track Feature Used',
      'sdk-user-1 track Feature Used',
      'sdk-user-1 track Feature Used',
      'sdk-user-1 track Feature Used',
      'sdk-user-1 track Feature Used',
      'sdk-user-2 alias ',
      'sdk-user-2 group ',
    ]);
    for (const record of records) {
      expect(record.key).toBe(record.event.entity_key);
      expect(record.event).toMatchObject({ source: 'segment', event_id: record.payload['messageId'] });
      expect(record.event.event_id).toMatch(/^node-next-\d+-/);
      expect(record.payload).toMatchObject({ context: { library: { name: '@segment/analytics-node' } } });
      expect(record.payload).not.toHaveProperty('writeKey');
    }
    // The SDK sets timestamp itself, so occurred_at is its clock; one event per feature use, in order per user.
    const uses = records.filter((record) => record.payload['event'] === 'Feature Used');
    expect(uses.map((record) => (record.payload['properties'] as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
    expect(results.filter(([route]) => route === '/v1/batch').every(([, result]) => result === 'accepted')).toBe(true);
  }, 60_000);

  it('refuses a wrong write key with 401 (the SDK reports a delivery failure) and publishes nothing', async () => {
    const before = await highWatermark();
    const analytics = new Analytics({
      writeKey: 'wk_not_ours',
      host: `http://127.0.0.1:${String(server.port)}`,
      path: '/v1/batch',
      flushAt: 10,
      flushInterval: 50,
      maxRetries: 0,
    });
    const failure = new Promise<unknown>((resolve) => {
      analytics.track({ userId: 'intruder', event: 'Signed In' }, (error) => {
        resolve(error);
      });
    });
    await analytics.closeAndFlush();
    expect(String(await failure)).toContain('[401]');

    const reply = await post(server.port, '/v1/track', JSON.stringify({ userId: 'intruder', event: 'X' }), {
      'content-type': 'application/json',
      authorization: basic('wk_not_ours'),
    });
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({
      success: false,
      code: 'invalid_write_key',
      message: 'the write key in the Authorization header is not accepted',
    });
    expect(reply.headers.get('www-authenticate')).toBe('Basic realm="segment"');
    const missing = await post(server.port, '/v1/batch', JSON.stringify({ batch: [] }), {});
    expect(missing).toMatchObject({ status: 401, body: { success: false, code: 'missing_write_key' } });
    expect(await highWatermark()).toBe(before);
    expect(results.at(-1)).toEqual(['/v1/batch', 'rejected_write_key']);
  }, 30_000);

  it('accepts a text/plain body from analytics.js (/v1/t, writeKey in the body) and allows any origin', async () => {
    const before = await highWatermark();
    const body = JSON.stringify({
      type: 'track',
      event: 'Signed Up',
      anonymousId: 'browser-anon-1',
      writeKey: OLD_WRITE_KEY,
      messageId: 'ajs-next-1741944413000-browser',
      originalTimestamp: '2025-03-14T09:26:53.000Z',
      sentAt: '2025-03-14T09:26:55.000Z',
    });
    const reply = await post(server.port, '/v1/t', body, { 'content-type': 'text/plain' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ success: true });
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(await highWatermark()).toBe(before + 1);
    const preflight = await fetch(`http://127.0.0.1:${String(server.port)}/v1/t`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    const get = await fetch(`http://127.0.0.1:${String(server.port)}/v1/t`);
    expect({ status: get.status, body: await get.json() }).toEqual({
      status: 405,
      body: { success: false, code: 'method_not_allowed', message: 'use POST' },
    });

    const [record] = (await readTopic()).filter((r) => r.event.event_id === 'ajs-next-1741944413000-browser');
    expect(record?.key).toBe('browser-anon-1');
    expect(record?.payload).not.toHaveProperty('writeKey');
    // timestamp = receivedAt − (sentAt − originalTimestamp): 2 s of device skew taken off our arrival time.
    expect(record!.event.occurred_at).toBe(record!.event.received_at - 2_000);
  }, 30_000);

  it('accepts signed Webhooks deliveries: single (F5), {"batch":[…]} signed whole, and batched with the batch token', async () => {
    const before = await highWatermark();
    const single = await post(server.port, '/webhooks/segment', f5Body, {
      'content-type': 'application/json',
      'x-signature': F5_SIGNATURE,
    });
    expect(single).toMatchObject({ status: 200, body: { success: true } });
    // Its first element was published just now: only the second is new.
    const batched = await post(server.port, '/webhooks/segment', f5Batched, {
      'content-type': 'application/json',
      'x-signature': F5_SIGNATURE,
      'x-persona-stream-token': BATCH_TOKEN,
    });
    expect(batched).toMatchObject({ status: 200, body: { success: true } });
    const envelope = JSON.stringify({ batch: [{ type: 'identify', userId: 'wh-user', messageId: 'wh-batch-1' }] });
    const batchObject = await post(server.port, '/webhooks/segment', envelope, { 'x-signature': sign(envelope) });
    expect(batchObject.status).toBe(200);
    expect(await highWatermark()).toBe(before + 3);

    const records = (await readTopic()).filter((r) => ['u_7f3a91', 'wh-user'].includes(r.key));
    expect(records.map((r) => `${r.key} ${r.event.type} ${r.event.event_id}`).sort()).toEqual([
      'u_7f3a91 identify api-x',
      'u_7f3a91 track node-next-1741946401120-2c9e5b7a-41d8-4f0e-b3a6-8e1f0d2c4b59',
      'wh-user identify wh-batch-1',
    ]);
    expect(results.slice(-3)).toEqual([
      ['/webhooks/segment', 'accepted'],
      ['/webhooks/segment', 'accepted'],
      ['/webhooks/segment', 'accepted'],
    ]);
  }, 30_000);

  it('refuses unsigned and mis-signed deliveries with 401, publishing nothing', async () => {
    const before = await highWatermark();
    const unsigned = await post(server.port, '/webhooks/segment', f5Body, { 'content-type': 'application/json' });
    expect(unsigned).toMatchObject({ status: 401, body: { success: false, code: 'missing_signature' } });
    const wrong = await post(server.port, '/webhooks/segment', f5Body, { 'x-signature': 'e'.repeat(40) });
    expect(wrong).toMatchObject({ status: 401, body: { success: false, code: 'invalid_signature' } });
    // The whole-array HMAC is not Segment's scheme for batches: refused, token or not.
    const wholeArray = await post(server.port, '/webhooks/segment', f5Batched, {
      'x-signature': sign(f5Batched),
      'x-persona-stream-token': BATCH_TOKEN,
    });
    expect(wholeArray.status).toBe(401);
    // A tampered single body under the original signature.
    const tampered = Buffer.from(f5Body.toString().replace('Growth', 'Enterprise'));
    expect((await post(server.port, '/webhooks/segment', tampered, { 'x-signature': F5_SIGNATURE })).status).toBe(401);
    const wrongToken = await post(server.port, '/webhooks/segment', f5Batched, {
      'x-signature': F5_SIGNATURE,
      'x-persona-stream-token': 'not-the-token',
    });
    expect(wrongToken).toMatchObject({ status: 401, body: { code: 'invalid_batch_token' } });
    expect(await highWatermark()).toBe(before);
    expect(results.slice(-5).map(([, result]) => result)).toEqual([
      'rejected_signature',
      'rejected_signature',
      'rejected_signature',
      'rejected_signature',
      'rejected_signature',
    ]);
  });

  it('answers 400 to an event over 32 KB (naming it) and to a batch over 500 KB, publishing nothing', async () => {
    const before = await highWatermark();
    const headers = { 'content-type': 'application/json', authorization: basic(WRITE_KEY) };
    const bigEvent = JSON.stringify({
      batch: [
        { type: 'track', event: 'Small', userId: 'size-user', messageId: 'size-ok' },
        {
          type: 'track',
          event: 'Big',
          userId: 'size-user',
          messageId: 'size-big',
          properties: { pad: 'x'.repeat(33_000) },
        },
      ],
    });
    const oversizeEvent = await post(server.port, '/v1/batch', bigEvent, headers);
    expect(oversizeEvent.status).toBe(400);
    expect(oversizeEvent.body).toMatchObject({
      success: false,
      code: 'event_too_large',
      message: 'batch[1] is 33098 bytes; an event may be at most 32768 bytes',
    });
    const items = Array.from({ length: 20 }, (_, i) => ({
      type: 'track',
      event: 'Medium',
      userId: 'size-user',
      messageId: `size-${String(i)}`,
      properties: { pad: 'x'.repeat(30_000) },
    }));
    const oversizeBatch = await post(server.port, '/v1/batch', JSON.stringify({ batch: items }), headers);
    expect(oversizeBatch).toEqual({
      status: 400,
      headers: oversizeBatch.headers,
      body: { success: false, code: 'request_too_large', message: 'request body over 512000 bytes' },
    });
    expect(await highWatermark()).toBe(before);
    expect(results.slice(-2)).toEqual([
      ['/v1/batch', 'too_large'],
      ['/v1/batch', 'too_large'],
    ]);
  });

  it('refuses a message without userId or anonymousId, and publishes the valid rest of a batch', async () => {
    const before = await highWatermark();
    const headers = { authorization: basic(WRITE_KEY) };
    const noIds = await post(server.port, '/v1/track', JSON.stringify({ event: 'Signed In' }), headers);
    const message = 'payload.userId: no_user_anon_id: a message needs a userId or an anonymousId';
    expect(noIds.status).toBe(400);
    expect(noIds.body).toEqual({
      success: false,
      code: 'no_user_anon_id',
      message,
      errors: [{ index: null, code: 'no_user_anon_id', field: 'userId', message }],
    });
    expect(await highWatermark()).toBe(before);

    const partial = JSON.stringify({
      batch: [
        { type: 'track', event: 'Signed In' },
        { type: 'track', event: 'Signed In', userId: 'partial-user', messageId: 'partial-ok' },
      ],
    });
    const reply = await post(server.port, '/v1/b', partial, headers);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      success: true,
      errors: [
        {
          index: 0,
          code: 'no_user_anon_id',
          field: 'userId',
          message: 'batch[0].userId: no_user_anon_id: a message needs a userId or an anonymousId',
        },
      ],
    });
    expect(await highWatermark()).toBe(before + 1);
    expect(results.slice(-2)).toEqual([
      ['/v1/track', 'invalid'],
      ['/v1/b', 'accepted'],
    ]);
  });

  it('issue #21 finding 2: a captured signature carries no forged message, in a batch or a {"batch":[…]}; a replay publishes nothing', async () => {
    const captured = { type: 'track', event: 'Signed In', userId: 'replay-user', messageId: 'replay-1' };
    const capturedBody = JSON.stringify(captured);
    const capturedSignature = sign(capturedBody);
    const before = await highWatermark();
    const delivered = await post(server.port, '/webhooks/segment', capturedBody, { 'x-signature': capturedSignature });
    expect(delivered).toMatchObject({ status: 200, body: { success: true } });

    const forgedOrder = {
      type: 'track',
      event: 'Order Completed',
      userId: 'replay-user',
      messageId: 'forged-order',
      properties: { revenue: 99_999 },
    };
    const forgedIdentify = { type: 'identify', userId: 'replay-user', messageId: 'forged-id', traits: { plan: 'Ent' } };
    const forged = [captured, forgedOrder, forgedIdentify];
    const signedAs = { 'x-signature': capturedSignature };
    const asArray = await post(server.port, '/webhooks/segment', JSON.stringify(forged), signedAs);
    expect(asArray).toMatchObject({ status: 403, body: { success: false, code: 'batch_not_enabled' } });
    const asEnvelope = await post(server.port, '/webhooks/segment', JSON.stringify({ batch: forged }), signedAs);
    expect(asEnvelope).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    const many = Array.from({ length: 10_000 }, (_, i) => ({ ...forgedOrder, messageId: `forged-${String(i)}` }));
    const flood = JSON.stringify([captured, ...many]);
    // Over what is read before a signature verifies; with the batch token, over the most a batch may hold.
    const unverified = await post(server.port, '/webhooks/segment', flood, signedAs);
    expect(unverified).toMatchObject({ status: 413, body: { code: 'request_too_large' } });
    const tokened = await post(server.port, '/webhooks/segment', flood, {
      ...signedAs,
      'x-persona-stream-token': BATCH_TOKEN,
    });
    expect(tokened).toMatchObject({ status: 400, body: { code: 'too_many_events' } });
    // The replay of the accepted delivery: 200 (final for Segment), nothing published.
    const replay = await post(server.port, '/webhooks/segment', capturedBody, signedAs);
    expect(replay).toMatchObject({ status: 200, body: { success: true, duplicate: true } });

    expect(await highWatermark()).toBe(before + 1);
    const records = (await readTopic()).filter((record) => record.key === 'replay-user');
    expect(records.map((record) => record.event.event_id)).toEqual(['replay-1']);
    expect(results.slice(-6).map(([, result]) => result)).toEqual([
      'accepted',
      'batch_disabled',
      'rejected_signature',
      'too_large',
      'too_large',
      'duplicate',
    ]);
    // The refusal of a batch says, in the log, how to enable batches.
    const hint = logged.lines.find((line) => line['code'] === 'batch_not_enabled');
    expect(String(hint?.['reason'])).toContain('set SEGMENT_WEBHOOK_BATCH_TOKEN');
  }, 30_000);

  it('issue #21 finding 4: answers 400, not 500, to properties nested 10,000 deep', async () => {
    const headers = { authorization: basic(WRITE_KEY) };
    const before = await highWatermark();
    const linesBefore = logged.lines.length;
    const resultsBefore = results.length;
    const nested = `{"event":"A","userId":"u1","properties":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const deep = await post(server.port, '/v1/track', nested, headers);
    expect(deep).toMatchObject({ status: 400, body: { code: 'too_deep' } });
    expect(await highWatermark()).toBe(before);
    expect(results.slice(resultsBefore)).toEqual([['/v1/track', 'invalid']]);
    expect(logged.lines.slice(linesBefore)).toEqual([
      expect.objectContaining({ level: 'warn', route: '/v1/track', status: 400, code: 'too_deep' }),
    ]);
  });

  it('issue #21 finding 4: refusals are logged sampled and counted, naming the field and the rule, never the value', async () => {
    const headers = { authorization: basic(WRITE_KEY) };
    const before = await highWatermark();
    const linesBefore = logged.lines.length;
    const resultsBefore = results.length;
    const pii = 'Carol Private 4111111111111111 carol.pii@example.com';
    for (let i = 0; i < 20; i += 1) {
      const refused = await post(
        server.port,
        '/v1/track',
        JSON.stringify({ event: 'A', userId: 'u1', timestamp: pii }),
        headers,
      );
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).not.toMatch(/Carol|4111|carol\.pii/);
    }
    expect(await highWatermark()).toBe(before);
    // Every refusal counted; five of them logged this minute, naming the field and the rule.
    expect(results.slice(resultsBefore).map(([, result]) => result)).toEqual(Array<string>(20).fill('invalid'));
    const lines = logged.lines.slice(linesBefore);
    expect(JSON.stringify(lines)).not.toMatch(/Carol|4111|carol\.pii/);
    const sampled = lines.filter((line) => line['route'] === '/v1/track' && line['code'] === 'invalid_timestamp');
    expect(sampled).toHaveLength(5);
    expect(sampled[0]).toMatchObject({
      level: 'warn',
      status: 400,
      reason: 'payload.timestamp: invalid_timestamp: expected an ISO-8601 date-time',
    });
  });

  it('runs as the segment-connector command: serves on HTTP_PORT against KAFKA_BROKERS, publishes to <prefix>segment.events, serves /healthz /readyz /metrics and drains on SIGTERM', async () => {
    const prefix = `${broker.prefix}cmd.`;
    const commandTopic = `${prefix}segment.events`;
    await broker.createTopics([{ name: commandTopic, partitions: 1 }]);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = startCli(['segment-connector'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      SEGMENT_WRITE_KEYS: `${WRITE_KEY}, ${OLD_WRITE_KEY}`,
      SEGMENT_SHARED_SECRET: '',
      HTTP_PORT: String(port),
      METRICS_PORT: String(metricsPort),
      MAX_EVENT_TIME_SKEW_MS: '60000',
    });
    try {
      await waitUntil(
        async () => (await statusOf(`http://127.0.0.1:${String(metricsPort)}/readyz`)) === 200,
        30_000,
        'the segment connector to be ready',
      );
      expect(await statusOf(`http://127.0.0.1:${String(metricsPort)}/healthz`)).toBe(200);
      const reply = await post(port, '/v1/identify', JSON.stringify({ userId: 'cmd-user', traits: { plan: 'Pro' } }), {
        authorization: basic(OLD_WRITE_KEY),
      });
      expect(reply).toMatchObject({ status: 200, body: { success: true } });
      // MAX_EVENT_TIME_SKEW_MS reaches the connector: 5 minutes ahead is within the 24 h default, not within 1 minute.
      const ahead = new Date(Date.now() + 5 * 60_000).toISOString();
      const early = await post(
        port,
        '/v1/track',
        JSON.stringify({ userId: 'cmd-user', event: 'Order Completed', timestamp: ahead }),
        { authorization: basic(WRITE_KEY) },
      );
      expect(early.status).toBe(400);
      // Without SEGMENT_SHARED_SECRET the webhook route refuses every delivery.
      const webhook = await post(port, '/webhooks/segment', f5Body, { 'x-signature': F5_SIGNATURE });
      expect(webhook.status).toBe(401);
      const offsets = await admin.fetchTopicOffsets(commandTopic);
      expect(offsets.map((partition) => Number(partition.high))).toEqual([1]);
      const metrics = await (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
      expect(metrics).toContain('persona_stream_webhook_requests_total{route="/v1/identify",result="accepted"} 1');
      expect(metrics).toContain(
        'persona_stream_webhook_requests_total{route="/webhooks/segment",result="rejected_signature"} 1',
      );
      child.kill('SIGTERM');
      expect(await exitOf(child)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('issue #21 finding 1: stays live and answers real calls promptly while two senders throw 8 MB nested bodies at it', async () => {
    const prefix = `${broker.prefix}attack.`;
    await broker.createTopics([{ name: `${prefix}segment.events`, partitions: 1 }]);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = startCli(['segment-connector'], {
      KAFKA_BROKERS: broker.bootstrapServers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      SEGMENT_WRITE_KEYS: WRITE_KEY,
      SEGMENT_SHARED_SECRET: SECRET,
      HTTP_PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
    });
    const logLines: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    try {
      const ops = (path: string) => `http://127.0.0.1:${String(metricsPort)}${path}`;
      const scrape = async () => (await fetch(ops('/metrics'))).text();
      await waitUntil(
        async () => (await statusOf(ops('/readyz'))) === 200,
        30_000,
        'the segment connector to be ready',
      );
      await scrape(); // Resets the event-loop delay maximum, so the next scrape reports the attack's.

      const attackers = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          ATTACKERS,
          `http://127.0.0.1:${String(port)}/webhooks/segment`,
          String(ATTACK_MS),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let attackOutput = '';
      attackers.stdout.on('data', (chunk: Buffer) => (attackOutput += chunk.toString('utf8')));
      const attacked = new Promise<number[]>((resolve) => {
        attackers.once('exit', () => {
          resolve(JSON.parse(attackOutput || '[]') as number[]);
        });
      });
      const until = Date.now() + ATTACK_MS;
      const latenciesMs: number[] = [];
      const legitStatuses: number[] = [];
      const legit = async () => {
        for (let i = 0; Date.now() < until; i += 1) {
          const started = performance.now();
          const body = JSON.stringify({ event: 'Attack Survived', userId: `live-${String(i)}` });
          const reply = await post(port, '/v1/track', body, { authorization: basic(WRITE_KEY) });
          latenciesMs.push(performance.now() - started);
          legitStatuses.push(reply.status);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const probeStatuses: number[] = [];
      const probe = async () => {
        while (Date.now() < until) {
          // As the kubelet probes: a 3 s timeout.
          probeStatuses.push(await statusOf(ops('/healthz'), 3_000));
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      };
      const [attackStatuses] = await Promise.all([attacked, legit(), probe()]);
      const metrics = await scrape();

      const sorted = [...latenciesMs].sort((a, b) => a - b);
      const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      const lagMax = Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN);
      const measured = {
        attackRequests: attackStatuses.length,
        attackAnswers: [...new Set(attackStatuses)].sort(),
        legitCalls: latenciesMs.length,
        legitP50Ms: Math.round(percentile(0.5)),
        legitP99Ms: Math.round(percentile(0.99)),
        serverEventLoopLagMaxMs: Math.round(lagMax * 1000),
        healthProbes: probeStatuses.length,
      };
      process.stderr.write(`issue #21 attack: ${JSON.stringify(measured)}\n`);
      expect(attackStatuses.length).toBeGreaterThan(10);
      // 413 from the Content-Length, before a byte is read; or the connection closed on the sender (0).
      expect(attackStatuses.every((status) => status === 413 || status === 0)).toBe(true);
      expect(metrics).toMatch(
        /persona_stream_webhook_requests_total\{route="\/webhooks\/segment",result="too_large"\} [1-9]/,
      );
      expect(metrics).not.toContain('internal_error');
      expect(probeStatuses.every((status) => status === 200)).toBe(true);
      expect(legitStatuses.every((status) => status === 200)).toBe(true);
      expect(lagMax).toBeLessThan(0.5);
      expect(measured.legitP50Ms).toBeLessThan(500);
      // Only the real calls reached the topic.
      const offsets = await admin.fetchTopicOffsets(`${prefix}segment.events`);
      expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(legitStatuses.length);
      // Refusals are logged a few a minute, not one line each.
      const refusalLines = logLines.filter((line) => line.includes('"route":"/webhooks/segment"'));
      expect(refusalLines.length).toBeLessThanOrEqual(5);
      child.kill('SIGTERM');
      expect(await exitOf(child)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('segment connector: rate limits (issue #21)', () => {
  const NOISY_KEY = 'wk_noisy';
  const QUIET_KEY = 'wk_quiet';

  it('holds each write key and the webhook source to their own budgets: a noisy one gets 429, the others are served', async () => {
    const published: CanonicalEvent[] = [];
    const sink: EventSink = {
      publish: (_topic, events) => {
        published.push(...events);
        return Promise.resolve();
      },
    };
    const results: [string, SegmentRequestResult][] = [];
    const now = () => performance.now();
    const server = await startHttpServer(
      segmentRoutes({
        publisher: sink,
        topic: 't',
        sharedSecrets: [SECRET],
        writeKeys: [NOISY_KEY, QUIET_KEY],
        logger,
        now: () => Date.now(),
        onResult: (route, result) => results.push([route, result]),
        // 5 a second each, 10 at once after being idle.
        admitWriteKey: admission(5, now),
        admitWebhook: admission(1, now),
      }),
      LOOPBACK,
      logger,
    );
    try {
      const track = (key: string, i: number) =>
        post(server.port, '/v1/track', JSON.stringify({ event: 'A', userId: `${key}-${String(i)}` }), {
          authorization: basic(key),
        });
      const noisy = await Promise.all(Array.from({ length: 60 }, (_, i) => track(NOISY_KEY, i)));
      const limited = noisy.filter((reply) => reply.status === 429);
      expect(noisy.filter((reply) => reply.status === 200).length).toBeLessThanOrEqual(12);
      expect(limited.length).toBeGreaterThanOrEqual(48);
      expect(limited[0]?.headers.get('retry-after')).toBe('1');
      expect(limited[0]?.body).toMatchObject({ success: false, code: 'rate_limited' });
      const quiet = await Promise.all(Array.from({ length: 5 }, (_, i) => track(QUIET_KEY, i)));
      expect(quiet.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);

      // The webhook source has a budget of its own (2 at once): its third delivery waits, the Tracking API does not.
      const deliveries = [1, 2, 3].map((i) =>
        JSON.stringify({ type: 'track', event: 'A', userId: 'wh', messageId: `rl-${String(i)}` }),
      );
      const webhooks = [];
      for (const body of deliveries)
        webhooks.push(await post(server.port, '/webhooks/segment', body, { 'x-signature': sign(body) }));
      expect(webhooks.map((reply) => reply.status)).toEqual([200, 200, 429]);
      expect((await track(QUIET_KEY, 6)).status).toBe(200);

      expect(published.filter((event) => event.entity_key.startsWith(QUIET_KEY))).toHaveLength(6);
      expect(published.filter((event) => event.entity_key === 'wh')).toHaveLength(2);
      expect(results.filter(([, result]) => result === 'rate_limited')).toHaveLength(limited.length + 1);
    } finally {
      await server.close();
    }
  });
});

describe('segment connector: broker failures', () => {
  it('answers 503 when the broker does not confirm the write, so Segment and its SDKs retry', async () => {
    const failing: EventSink = {
      publish: (topic, events) =>
        Promise.reject(new PublishError(topic, events.length, { cause: new Error('broker down') })),
    };
    const results: SegmentRequestResult[] = [];
    const durations: number[] = [];
    const server = await startHttpServer(
      segmentRoutes({
        publisher: failing,
        topic: 't',
        sharedSecrets: [SECRET],
        writeKeys: [WRITE_KEY],
        logger,
        now: () => Date.now(),
        onResult: (_route, result, seconds) => {
          results.push(result);
          durations.push(seconds);
        },
      }),
      LOOPBACK,
      logger,
    );
    try {
      const track = JSON.stringify({ event: 'A', userId: 'u1' });
      const tracking = await post(server.port, '/v1/track', track, { authorization: basic(WRITE_KEY) });
      expect(tracking).toMatchObject({
        status: 503,
        body: { success: false, code: 'broker_unavailable', message: 'the events could not be written; retry later' },
      });
      const webhook = await post(server.port, '/webhooks/segment', f5Body, { 'x-signature': F5_SIGNATURE });
      expect(webhook.status).toBe(503);
      expect(results).toEqual(['broker_unavailable', 'broker_unavailable']);
      expect(durations.every((seconds) => seconds > 0 && seconds < 10)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('publishes the retry of a webhook delivery answered 503; a replay of it once published gets 200 and publishes nothing', async () => {
    const published: string[] = [];
    let failures = 1;
    const flaky: EventSink = {
      publish: (topic, events) => {
        if (failures-- > 0) return Promise.reject(new PublishError(topic, events.length, { cause: new Error('down') }));
        published.push(...events.map((event) => event.event_id));
        return Promise.resolve();
      },
    };
    const results: SegmentRequestResult[] = [];
    const server = await startHttpServer(
      segmentRoutes({
        publisher: flaky,
        topic: 't',
        sharedSecrets: [SECRET],
        writeKeys: [],
        logger,
        now: () => Date.now(),
        onResult: (_route, result) => results.push(result),
      }),
      LOOPBACK,
      logger,
    );
    try {
      const deliver = () => post(server.port, '/webhooks/segment', f5Body, { 'x-signature': F5_SIGNATURE });
      expect((await deliver()).status).toBe(503);
      expect((await deliver()).status).toBe(200);
      expect(await deliver()).toMatchObject({ status: 200, body: { success: true, duplicate: true } });
      expect(published).toEqual(['node-next-1741946401120-2c9e5b7a-41d8-4f0e-b3a6-8e1f0d2c4b59']);
      expect(results).toEqual(['broker_unavailable', 'accepted', 'duplicate']);
    } finally {
      await server.close();
    }
  });
});

describe('persona-stream segment-connector (the command)', () => {
  it('refuses to start when neither SEGMENT_SHARED_SECRET nor SEGMENT_WRITE_KEYS is set, naming both', async () => {
    await expect(segmentConnectorCommand.run([], io({ KAFKA_BROKERS: '127.0.0.1:1' }))).rejects.toThrow(
      /neither SEGMENT_SHARED_SECRET nor SEGMENT_WRITE_KEYS is set/,
    );
  });
});
