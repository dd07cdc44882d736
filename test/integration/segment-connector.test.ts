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
import { segmentRoutes } from '../../src/connectors/segment/segment-connector.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema, type CanonicalEvent } from '../../src/records/canonical-event.js';
import { freePort } from '../support/free-port.js';
import { exitOf, startCli, waitUntil } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const LOOPBACK = { port: 0, host: '127.0.0.1' };

const WRITE_KEY = 'wk_test_8Jd2';
const OLD_WRITE_KEY = 'wk_test_previous';
const SECRET = 'whsec_test_segment_fixture';
const F5_SIGNATURE = '3decb09a91c54970e1c9f3df9e34b7566aabd75b';
const f5Body = readFileSync(new URL('../fixtures/segment/f5-webhook-actions-track.body', import.meta.url));
const f5Batched = readFileSync(
  new URL('../fixtures/segment-connector/f5-webhook-actions-batched.body', import.meta.url),
);
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

/** The HTTP status of a GET, or 0 while nothing listens. */
async function statusOf(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

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
      writeKeys: [WRITE_KEY, OLD_WRITE_KEY],
      logger,
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

  it('accepts signed Webhooks deliveries, single (F5) and batched (first element signed)', async () => {
    const before = await highWatermark();
    const single = await post(server.port, '/webhooks/segment', f5Body, {
      'content-type': 'application/json',
      'x-signature': F5_SIGNATURE,
    });
    expect(single).toMatchObject({ status: 200, body: { success: true } });
    const batched = await post(server.port, '/webhooks/segment', f5Batched, {
      'content-type': 'application/json',
      'x-signature': F5_SIGNATURE,
    });
    expect(batched).toMatchObject({ status: 200, body: { success: true } });
    const envelope = JSON.stringify({ batch: [{ type: 'identify', userId: 'wh-user', messageId: 'wh-batch-1' }] });
    const batchObject = await post(server.port, '/webhooks/segment', envelope, { 'x-signature': sign(envelope) });
    expect(batchObject.status).toBe(200);
    expect(await highWatermark()).toBe(before + 4);

    const records = (await readTopic()).filter((r) => ['u_7f3a91', 'wh-user'].includes(r.key));
    expect(records.map((r) => `${r.key} ${r.event.type} ${r.event.event_id}`).sort()).toEqual([
      'u_7f3a91 identify api-x',
      'u_7f3a91 track node-next-1741946401120-2c9e5b7a-41d8-4f0e-b3a6-8e1f0d2c4b59',
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
    // The whole-array HMAC is not Segment's scheme for batches: refused.
    const wholeArray = await post(server.port, '/webhooks/segment', f5Batched, { 'x-signature': sign(f5Batched) });
    expect(wholeArray.status).toBe(401);
    // A tampered single body under the original signature.
    const tampered = Buffer.from(f5Body.toString().replace('Growth', 'Enterprise'));
    expect((await post(server.port, '/webhooks/segment', tampered, { 'x-signature': F5_SIGNATURE })).status).toBe(401);
    expect(await highWatermark()).toBe(before);
    expect(results.slice(-4).map(([, result]) => result)).toEqual([
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
      message: 'batch[1] (messageId "size-big") is 33098 bytes; an event may be at most 32768 bytes',
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
});

describe('persona-stream segment-connector (the command)', () => {
  it('refuses to start when neither SEGMENT_SHARED_SECRET nor SEGMENT_WRITE_KEYS is set, naming both', async () => {
    await expect(segmentConnectorCommand.run([], io({ KAFKA_BROKERS: '127.0.0.1:1' }))).rejects.toThrow(
      /neither SEGMENT_SHARED_SECRET nor SEGMENT_WRITE_KEYS is set/,
    );
  });
});
