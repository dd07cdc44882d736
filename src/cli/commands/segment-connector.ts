import { startHttpServer } from '../../adapters/http/http-server.js';
import { EventPublisher } from '../../adapters/kafka/event-publisher.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { createSchemaRegistry, jsonSerde, registrySerde } from '../../adapters/kafka/record-serde.js';
import { topicCatalogue, topicName } from '../../adapters/kafka/topic-catalogue.js';
import { loadEnv } from '../../config/env.js';
import { SEGMENT_WEBHOOK_PATH, segmentRoutes } from '../../connectors/segment/segment-connector.js';
import { TRACKING_API_PATHS } from '../../connectors/segment/tracking-api-endpoints.js';
import { createLogger } from '../../log/logger.js';
import { canonicalEventSchema } from '../../records/canonical-event.js';
import { UsageError, type CliIo } from '../cli-io.js';
import type { Command } from './command.js';

/** The process edges of a running connector, injectable so a test can run it in-process. */
export interface ConnectorLifecycle {
  /** Resolves when the connector must drain and stop (SIGTERM/SIGINT for the real process). */
  readonly stopRequested: () => Promise<void>;
  /** Told the bound port once the server listens (HTTP_PORT=0 picks a free one). */
  readonly listening?: (port: number) => void;
}

/**
 * Serves the Segment routes on HTTP_PORT, publishing to segment.events, until asked to stop; then stops accepting
 * requests, lets the open ones finish (each waits for its broker ack) and disconnects. Exit code 0.
 */
export async function runSegmentConnector(
  args: readonly string[],
  io: CliIo,
  lifecycle: ConnectorLifecycle,
): Promise<number> {
  if (args.length > 0) {
    throw new UsageError('segment-connector takes no arguments; it is configured by environment variables');
  }
  const env = loadEnv(io.env);
  const { sharedSecret, writeKeys } = env.segment;
  if (sharedSecret === undefined && writeKeys.length === 0) {
    throw new Error(
      'neither SEGMENT_SHARED_SECRET nor SEGMENT_WRITE_KEYS is set: set SEGMENT_SHARED_SECRET to accept a Segment ' +
        'Webhooks destination (POST /webhooks/segment) and/or SEGMENT_WRITE_KEYS (comma-separated) to accept ' +
        'Segment libraries on the Tracking API endpoints (/v1/track, /v1/batch, …)',
    );
  }
  const logger = createLogger({ level: env.logLevel, name: 'segment-connector' });
  const kafka = createKafka(env.kafka, logger);
  const topic = topicName(topicCatalogue({ prefix: env.kafka.topicPrefix }), 'segment-events');
  const serde =
    env.schemaRegistry === undefined
      ? jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema)
      : await registrySerde(
          createSchemaRegistry(env.schemaRegistry),
          topic,
          'io.personastream.CanonicalEvent',
          canonicalEventSchema,
        );
  const publisher = new EventPublisher(kafka, serde);
  await publisher.connect();
  const routes = segmentRoutes({ publisher, topic, sharedSecret, writeKeys, logger, now: io.now });
  const server = await startHttpServer(routes, env.httpPort, logger);
  logger.info(
    {
      port: server.port,
      topic,
      serde: serde.format,
      webhook: sharedSecret === undefined ? 'off (SEGMENT_SHARED_SECRET unset)' : SEGMENT_WEBHOOK_PATH,
      trackingApi: writeKeys.length === 0 ? 'off (SEGMENT_WRITE_KEYS unset)' : TRACKING_API_PATHS.join(' '),
    },
    'segment connector listening',
  );
  lifecycle.listening?.(server.port);

  await lifecycle.stopRequested();
  logger.info('draining: no new requests, finishing open ones');
  await server.close();
  await publisher.disconnect();
  logger.info('stopped');
  return 0;
}

function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

export const segmentConnectorCommand: Command = {
  name: 'segment-connector',
  usage: 'segment-connector',
  summary:
    'HTTP server: POST /webhooks/segment (X-Signature verified) and the Tracking API (/v1/track, /v1/batch, … ' +
    'with a write key) → segment.events, 200 only after the broker acked',
  run: (args, io) => runSegmentConnector(args, io, { stopRequested: untilSignalled }),
};
