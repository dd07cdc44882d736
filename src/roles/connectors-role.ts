import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startHttpServer, type Route } from '../adapters/http/http-server.js';
import { EventPublisher } from '../adapters/kafka/event-publisher.js';
import type { Metrics } from '../adapters/metrics/metrics.js';
import { admission } from '../connectors/rate-limits.js';
import { RefusalLog } from '../connectors/refusal-log.js';
import { answer } from '../connectors/request-io.js';
import { ENABLE_BATCHES_HINT } from '../connectors/segment/batch-token.js';
import { SEGMENT_WEBHOOK_PATH, segmentRoutes } from '../connectors/segment/segment-connector.js';
import { trackingApiEndpoint } from '../connectors/segment/tracking-api-endpoints.js';
import { WebhookReplays } from '../connectors/segment/webhook-replays.js';
import { openStripeWebhookEnrichment } from '../connectors/stripe/webhook-enrichment.js';
import { STRIPE_WEBHOOK_PATH, stripeWebhookRoute } from '../connectors/stripe/stripe-connector.js';
import type { RunningRole } from './processor-role.js';
import type { Runtime } from './runtime.js';

export interface ConnectorsRole extends RunningRole {
  readonly port: number;
}

/**
 * How long a webhook waits for the broker's ack before it is answered 503: under Segment's 5 s answer window (past
 * it Segment counts a timeout and retries anyway), so the sender hears "not written" rather than nothing while the
 * broker is unreachable. An ack that comes later still writes the event; the sender's retry then duplicates it,
 * and the processor deduplicates by event id.
 */
export const CONNECTOR_PUBLISH_DEADLINE_MS = 4_000;

/** Which connectors to serve: `all` serves both on HTTP_PORT. */
export interface ConnectorSelection {
  readonly stripe: boolean;
  readonly segment: boolean;
}

/**
 * The connectors' HTTP server: Stripe webhooks and/or the Segment webhook destination and Tracking API, publishing
 * canonical events answered only after the broker's ack. Each request is counted by route and result (a path no
 * route serves as route `other`, result `not_found`); refusals are logged sampled; rate limits run on a monotonic
 * clock, so a wall-clock step neither opens nor shuts them.
 */
export async function startConnectorsRole(runtime: Runtime, selection: ConnectorSelection): Promise<ConnectorsRole> {
  const { env, topics, metrics, kafka } = runtime;
  const logger = runtime.logger.child({ role: 'connectors' });
  const publisher = new EventPublisher(kafka, runtime.serdes.event, {
    deadlineMs: CONNECTOR_PUBLISH_DEADLINE_MS,
    idempotent: env.kafka.idempotent,
  });
  await publisher.connect();
  // Disputes whose charge is only an id: re-keyed through the Stripe API, else kept on the dead-letter topic.
  const enrichment = await openStripeWebhookEnrichment(env, kafka);
  const closer = connectionCloserOnDrain();
  const routes: Route[] = [closer.route];
  const monotonic = () => performance.now();
  const refusals = new RefusalLog(logger, monotonic);
  const limits = env.connectorRateLimits;
  if (selection.stripe) {
    routes.push(
      stripeWebhookRoute({
        publisher,
        topic: topics.stripeEvents,
        webhookSecrets: env.stripe.webhookSecrets,
        maxEventTimeSkewMs: env.maxEventTimeSkewMs,
        logger,
        now: runtime.now,
        onResult: (result, seconds) => {
          metrics.webhookRequests.inc({ route: STRIPE_WEBHOOK_PATH, result });
          metrics.webhookRequestDuration.observe({ route: STRIPE_WEBHOOK_PATH }, seconds);
        },
        chargeCustomers: enrichment.chargeCustomers,
        admit: admission(limits.stripeWebhookPerSecond, monotonic),
        refusals,
        deadLetters: {
          topic: enrichment.deadLetters.topic,
          sink: {
            write: async (topic, letters) => {
              await enrichment.deadLetters.sink.write(topic, letters);
              for (const letter of letters) metrics.dlqRecords.inc({ reason: letter.error_code });
            },
          },
        },
      }),
    );
  }
  if (selection.segment) {
    routes.push(
      ...segmentRoutes({
        publisher,
        topic: topics.segmentEvents,
        sharedSecrets: env.segment.sharedSecrets,
        batchTokens: env.segment.webhookBatchTokens,
        limits: { maxEventTimeSkewMs: env.maxEventTimeSkewMs },
        writeKeys: env.segment.writeKeys,
        logger,
        now: runtime.now,
        onResult: (route, result, seconds) => {
          metrics.webhookRequests.inc({ route, result });
          metrics.webhookRequestDuration.observe({ route }, seconds);
        },
        admitWebhook: admission(limits.segmentWebhookPerSecond, monotonic),
        admitWriteKey: admission(limits.writeKeyPerSecond, monotonic),
        refusals,
        replays: new WebhookReplays(),
      }),
    );
    if (env.segment.sharedSecrets.length > 0 && env.segment.webhookBatchTokens.length === 0) {
      logger.info(`batched Segment webhook deliveries (JSON arrays) are refused with 403: ${ENABLE_BATCHES_HINT}`);
    }
  }
  routes.push(notFound(metrics));
  const server = await startHttpServer(
    routes,
    {
      port: env.httpPort,
      host: env.httpHost,
      limits: env.httpLimits,
      // A request a route failed on is answered 500: counted too, so an attack that breaks a route shows on dashboards.
      onUnhandledError: (request) => {
        metrics.webhookRequests.inc({ route: connectorRouteLabel(request.url), result: 'internal_error' });
      },
    },
    logger,
  );
  const serving = [selection.stripe ? 'stripe' : '', selection.segment ? 'segment' : ''].filter(Boolean);
  logger.info(
    { port: server.port, stripe: selection.stripe, segment: selection.segment },
    `${serving.join(' and ')} connector${serving.length > 1 ? 's' : ''} listening`,
  );
  return {
    port: server.port,
    stop: async () => {
      // No new connections; the open requests finish (answered after their broker ack, then their connection
      // closes) before the producer goes.
      closer.drain();
      await server.close();
      refusals.close();
      await publisher.disconnect();
      await enrichment.close();
    },
  };
}

/**
 * A route that handles nothing but marks answers given from the drain on — the open requests' and any still
 * arriving on a kept-alive connection — `Connection: close`: no client reuses a connection that is about to go, and
 * the server's close is not held up for Node's 5 s keep-alive timeout by connections that would otherwise stay open.
 */
function connectionCloserOnDrain(): { readonly route: Route; drain(): void } {
  let draining = false;
  const open = new Set<ServerResponse>();
  return {
    route: (_request, response) => {
      if (draining) {
        response.setHeader('connection', 'close');
      } else {
        open.add(response);
        response.once('close', () => open.delete(response));
      }
      return Promise.resolve(false);
    },
    drain: () => {
      draining = true;
      for (const response of open) if (!response.headersSent) response.setHeader('connection', 'close');
      open.clear();
    },
  };
}

/** Answers 404 to any request no route took, counted as route `other`, result `not_found`. */
function notFound(metrics: Metrics): Route {
  return (request, response) => {
    metrics.webhookRequests.inc({ route: 'other', result: 'not_found' });
    answer(request, response, 404, { error: 'not found' });
    return Promise.resolve(true);
  };
}

/** A bounded `route` label: a path the connectors serve, else `other` (any client can send any path). */
function connectorRouteLabel(url: string | undefined): string {
  const path = (url ?? '').split('?')[0] ?? '';
  const known =
    path === STRIPE_WEBHOOK_PATH || path === SEGMENT_WEBHOOK_PATH || trackingApiEndpoint(path) !== undefined;
  return known ? path : 'other';
}
