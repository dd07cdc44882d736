import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningServer } from '../../src/adapters/http/http-server.js';
import { EventPublisher, PublishError, type EventSink } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { readTopicToEnd } from '../../src/adapters/kafka/topic-reader.js';
import { admission } from '../../src/connectors/rate-limits.js';
import { stripeWebhookRoute } from '../../src/connectors/stripe/stripe-connector.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema } from '../../src/records/canonical-event.js';
import { basilSubscriptionCreated } from '../fixtures/stripe-events.js';
import { quietKafka } from '../support/pipeline-process.js';
import { startTestBroker, type TestBroker } from '../support/test-broker.js';

const LOOPBACK = { port: 0, host: '127.0.0.1' };

const SECRET = 'whsec_test_current';
const OLD_SECRET = 'whsec_test_previous';
const serde = jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema);
const logger = createLogger({ level: 'silent', name: 'test' });

function subscriptionEvent(id: string, customer: string): string {
  const created = Math.floor(Date.now() / 1000);
  return JSON.stringify(basilSubscriptionCreated({ id, customer, created, quantity: 2, unitAmount: 2_500 }));
}

function sign(payload: string, secret = SECRET, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp === undefined ? {} : { timestamp }),
  });
}

async function post(port: number, body: string | Buffer, signature?: string) {
  const response = await fetch(`http://127.0.0.1:${String(port)}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { 'stripe-signature': signature }),
    },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    retryAfter: response.headers.get('retry-after'),
  };
}

/** A subscription event whose `description` holds these bytes verbatim (not UTF-8 in the cases below). */
function eventWithBytes(id: string, bytes: number[]): Buffer {
  const [head, tail] = JSON.stringify({
    ...(JSON.parse(subscriptionEvent(id, 'cus_bytes')) as object),
    description: '@@',
  }).split('@@');
  return Buffer.concat([Buffer.from(head ?? ''), Buffer.from(bytes), Buffer.from(tail ?? '')]);
}

describe('stripe connector: POST /webhooks/stripe (the shared Apache Kafka)', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let publisher: EventPublisher;
  let server: RunningServer;
  let topic: string;

  async function highWatermark(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  }

  const results: string[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    topic = `${broker.prefix}stripe.events`;
    await broker.createTopics([{ name: topic, partitions: 3 }]);
    kafka = quietKafka(broker);
    publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
    server = await startHttpServer(
      [
        stripeWebhookRoute({
          publisher,
          topic,
          webhookSecrets: [SECRET, OLD_SECRET],
          logger,
          now: () => Date.now(),
          maxBodyBytes: 64 * 1024,
          onResult: (result) => results.push(result),
        }),
      ],
      LOOPBACK,
      logger,
    );
  }, 60_000);

  afterAll(async () => {
    await server.close();
    await publisher.disconnect();
    await broker.stop();
  });

  it('publishes a signed event as a canonical event keyed by customer, answering 200 after the ack', async () => {
    const before = await highWatermark();
    const body = subscriptionEvent('evt_signed_1', 'cus_A');
    expect(await post(server.port, body, sign(body))).toMatchObject({ status: 200, body: { received: true } });
    expect(await highWatermark()).toBe(before + 1);

    const [record, ...others] = await readTopicToEnd(kafka, topic);
    expect(others).toEqual([]);
    const event = await serde.decode(record?.value ?? Buffer.alloc(0));
    expect(record?.key).toBe('cus_A');
    expect(event).toMatchObject({ event_id: 'evt_signed_1', source: 'stripe', entity_key: 'cus_A', payload: body });
  }, 60_000);

  it('accepts the previous secret during a rotation', async () => {
    const body = subscriptionEvent('evt_rotated', 'cus_B');
    expect((await post(server.port, body, sign(body, OLD_SECRET))).status).toBe(200);
  });

  it('rejects bad, missing and stale signatures, malformed JSON and invalid events with 400, publishing nothing', async () => {
    const before = await highWatermark();
    const body = subscriptionEvent('evt_bad', 'cus_C');
    expect((await post(server.port, body, sign(body, 'whsec_wrong'))).status).toBe(400);
    expect((await post(server.port, body)).status).toBe(400);
    expect((await post(server.port, body, sign(body, SECRET, Math.floor(Date.now() / 1000) - 600))).status).toBe(400);
    expect((await post(server.port, `${body}}`, sign(body))).status).toBe(400);
    const notJson = '{"id": "evt_x", "object": "event",';
    expect((await post(server.port, notJson, sign(notJson))).status).toBe(400);
    const invalid = JSON.stringify({
      id: 'evt_y',
      object: 'event',
      type: 'customer.subscription.updated',
      created: 1,
      data: {},
    });
    const rejected = await post(server.port, invalid, sign(invalid));
    expect(rejected.status).toBe(400);
    expect(String(rejected.body['error'])).toMatch(/data/);
    expect(await highWatermark()).toBe(before);
  });

  it('acknowledges event types it does not use, publishing nothing', async () => {
    const before = await highWatermark();
    const body = JSON.stringify({
      id: 'evt_product',
      object: 'event',
      type: 'product.created',
      created: 1,
      data: { object: { id: 'prod_1' } },
    });
    results.length = 0;
    expect(await post(server.port, body, sign(body))).toMatchObject({
      status: 200,
      body: { received: true, ignored: true },
    });
    expect(await highWatermark()).toBe(before);
    // Counted apart from accepted events (persona_stream_webhook_requests_total{result="ignored"}).
    expect(results).toEqual(['ignored']);
  });

  it('answers 413 to a body over the limit', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    expect((await post(server.port, body, sign(body))).status).toBe(413);
  });

  it('issue #21 finding 4: verifies over the raw bytes: C0 80 under a signature made over FF FE as text is refused', async () => {
    const before = await highWatermark();
    const signedBody = eventWithBytes('evt_ff_fe', [0xff, 0xfe]);
    const sentBody = eventWithBytes('evt_ff_fe', [0xc0, 0x80]);
    // Both decode to the same text: a signature over that text is what a verifier of decoded text checks.
    const overText = sign(signedBody.toString('utf8'));
    results.length = 0;
    expect(await post(server.port, sentBody, overText)).toMatchObject({
      status: 400,
      body: { error: 'Stripe-Signature does not match the body with any secret' },
    });
    expect(await highWatermark()).toBe(before);
    expect(results).toEqual(['rejected_signature']);
  });

  it('answers 400, never 500, to nesting deeper than any event, unsigned (before parsing) or signed', async () => {
    const before = await highWatermark();
    const nested = `{"id":"evt_deep","object":"event","data":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    results.length = 0;
    expect((await post(server.port, nested, sign('{}'))).status).toBe(400);
    expect(await post(server.port, nested, sign(nested))).toMatchObject({
      status: 400,
      body: { error: 'the body nests arrays or objects deeper than 64 levels' },
    });
    expect(await highWatermark()).toBe(before);
    expect(results).toEqual(['rejected_signature', 'invalid']);
  });
});

describe('stripe connector: rate limit (issue #21)', () => {
  it('answers 429 with Retry-After past its source budget, once a delivery proved it comes from Stripe', async () => {
    const published: string[] = [];
    const sink: EventSink = {
      publish: (_topic, events) => {
        published.push(...events.map((event) => event.event_id));
        return Promise.resolve();
      },
    };
    const results: string[] = [];
    const server = await startHttpServer(
      [
        stripeWebhookRoute({
          publisher: sink,
          topic: 't',
          webhookSecrets: [SECRET],
          logger,
          now: () => Date.now(),
          // 1 a second, 2 at once after being idle.
          admit: admission(1, () => performance.now()),
          onResult: (result) => results.push(result),
        }),
      ],
      LOOPBACK,
      logger,
    );
    try {
      const replies = [];
      for (const id of ['evt_rl_1', 'evt_rl_2', 'evt_rl_3']) {
        const body = subscriptionEvent(id, 'cus_RL');
        replies.push(await post(server.port, body, sign(body)));
      }
      // A forger does not spend Stripe's budget: refused for its signature, not for the rate.
      const forged = subscriptionEvent('evt_forged', 'cus_RL');
      replies.push(await post(server.port, forged, sign(forged, 'whsec_forger')));
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 429, 400]);
      expect(replies[2]).toMatchObject({
        retryAfter: '1',
        body: { error: expect.stringContaining('rate limit') as unknown },
      });
      expect(published).toEqual(['evt_rl_1', 'evt_rl_2']);
      expect(results).toEqual(['accepted', 'accepted', 'rate_limited', 'rejected_signature']);
    } finally {
      await server.close();
    }
  });
});

describe('stripe connector: broker failures', () => {
  it('answers 503 when the broker does not confirm the write, so Stripe retries', async () => {
    const failing: EventSink = {
      publish: (topic, events) =>
        Promise.reject(new PublishError(topic, events.length, { cause: new Error('broker down') })),
    };
    const server = await startHttpServer(
      [stripeWebhookRoute({ publisher: failing, topic: 't', webhookSecrets: [SECRET], logger, now: () => Date.now() })],
      LOOPBACK,
      logger,
    );
    const body = subscriptionEvent('evt_retry', 'cus_D');
    expect((await post(server.port, body, sign(body))).status).toBe(503);
    await server.close();
  });
});

describe('persona-stream stripe-connector (the process)', () => {
  it('serves webhooks on HTTP_PORT against KAFKA_BROKERS and exits 0 on SIGTERM', async () => {
    const broker = await startTestBroker();
    await broker.createTopics([{ name: `${broker.prefix}proc.stripe.events`, partitions: 1 }]);
    const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/src/cli/main.js');
    const child = spawn(process.execPath, [bin, 'stripe-connector'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: broker.bootstrapServers.join(','),
        KAFKA_TOPIC_PREFIX: `${broker.prefix}proc.`,
        STRIPE_WEBHOOK_SECRET: SECRET,
        HTTP_PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /"port":(\d+)[^\n]*stripe connector listening/.exec(output);
          if (match?.[1] !== undefined) resolve(Number(match[1]));
        });
        child.once('exit', (code) => {
          reject(new Error(`exited ${String(code)}: ${output}`));
        });
      });
      const body = subscriptionEvent('evt_process', 'cus_P');
      expect((await post(port, body, sign(body))).status).toBe(200);
      const records = await readTopicToEnd(quietKafka(broker), `${broker.prefix}proc.stripe.events`);
      expect(records.map((record) => record.key)).toEqual(['cus_P']);
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await broker.stop();
    }
  }, 60_000);

  it('refuses to start without STRIPE_WEBHOOK_SECRET, naming it', async () => {
    const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist/src/cli/main.js');
    const child = spawn(process.execPath, [bin, 'stripe-connector'], {
      env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', STRIPE_WEBHOOK_SECRET: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('STRIPE_WEBHOOK_SECRET');
  });
});
