import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import kafkajs from 'kafkajs';
import { startHttpServer } from '../../src/adapters/http/http-server.js';
import { EventPublisher } from '../../src/adapters/kafka/event-publisher.js';
import { jsonSerde } from '../../src/adapters/kafka/record-serde.js';
import { segmentRoutes } from '../../src/connectors/segment/segment-connector.js';
import { generateTraffic } from '../../src/demo/traffic-generator.js';
import { startLocalBroker } from '../../src/local-broker/local-broker.js';
import { createLogger } from '../../src/log/logger.js';
import { canonicalEventSchema } from '../../src/records/canonical-event.js';

const { Kafka, logLevel } = kafkajs;
const WRITE_KEY = 'wk_bench';
const SECRET = 'bench-shared-secret';
const TOPIC = 'segment.events';

export interface SegmentWebhookResult {
  readonly scenario: 'segment-webhook';
  /** `tracking-api`: POST /v1/batch with a write key (Segment's libraries); `webhook`: signed Actions batches. */
  readonly route: 'tracking-api' | 'webhook';
  readonly batches: number;
  readonly messagesPerBatch: number;
  readonly concurrency: number;
  /** Messages answered 200, i.e. acknowledged by the broker, per second of wall time. */
  readonly messagesPerSecond: number;
  readonly batchesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non200: number;
}

export interface SegmentWebhookOptions {
  readonly route: 'tracking-api' | 'webhook';
  readonly batches: number;
  readonly messagesPerBatch: number;
  readonly concurrency: number;
}

/**
 * Scenario 6 (Segment half): batches of generated Segment messages posted over loopback to the real routes, each
 * answered only after the local broker acknowledged every message of it; `concurrency` batches in flight, as a
 * fleet of SDK instances (or Segment's Actions delivery) would send them.
 */
export async function runSegmentWebhookScenario(
  options: SegmentWebhookOptions,
  log: (line: string) => void,
): Promise<SegmentWebhookResult> {
  const wanted = options.batches * options.messagesPerBatch;
  const messages: Record<string, unknown>[] = [];
  for (let seed = 7; messages.length < wanted; seed++) {
    const traffic = generateTraffic({ seed, customers: 0, users: 2_000, months: 6, start: Date.UTC(2026, 0, 1) });
    for (const event of traffic)
      if (messages.length < wanted) messages.push({ ...event.raw, messageId: `bench-${String(messages.length)}` });
  }
  const bodies: { readonly text: string; readonly headers: Record<string, string> }[] = [];
  for (let i = 0; i < options.batches; i++) {
    const batch = messages.slice(i * options.messagesPerBatch, (i + 1) * options.messagesPerBatch);
    if (options.route === 'tracking-api') {
      const text = JSON.stringify({ batch, writeKey: WRITE_KEY, sentAt: new Date().toISOString() });
      const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
      bodies.push({ text, headers: { 'content-type': 'application/json', authorization } });
    } else {
      const signature = createHmac('sha1', SECRET).update(JSON.stringify(batch[0])).digest('hex');
      bodies.push({
        text: JSON.stringify(batch),
        headers: { 'content-type': 'application/json', 'x-signature': signature },
      });
    }
  }
  const path = options.route === 'tracking-api' ? '/v1/batch' : '/webhooks/segment';

  // 24 partitions: the mock broker ages out old data past ~5 MiB per partition.
  const broker = await startLocalBroker({ topics: [{ name: TOPIC, partitions: 24 }] });
  const logger = createLogger({ level: 'silent', name: 'bench' });
  const kafka = new Kafka({ brokers: [...broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const publisher = new EventPublisher(kafka, jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema));
  await publisher.connect();
  const routes = segmentRoutes({
    publisher,
    topic: TOPIC,
    sharedSecret: SECRET,
    writeKeys: [WRITE_KEY],
    logger,
    now: () => Date.now(),
  });
  const server = await startHttpServer(routes, 0, logger);
  log(
    `segment-webhook (${options.route}): ${String(bodies.length)} batches of ${String(options.messagesPerBatch)} messages, ${String(options.concurrency)} in flight`,
  );
  const latencies: number[] = [];
  let non200 = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      if (body === undefined) break;
      const sent = performance.now();
      const response = await fetch(`http://127.0.0.1:${String(server.port)}${path}`, {
        method: 'POST',
        headers: body.headers,
        body: body.text,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status !== 200) non200++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await server.close();
  await publisher.disconnect();
  await broker.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const acceptedBatches = bodies.length - non200;
  return {
    scenario: 'segment-webhook',
    route: options.route,
    batches: bodies.length,
    messagesPerBatch: options.messagesPerBatch,
    concurrency: options.concurrency,
    messagesPerSecond: (acceptedBatches * options.messagesPerBatch) / seconds,
    batchesPerSecond: acceptedBatches / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    non200,
  };
}
