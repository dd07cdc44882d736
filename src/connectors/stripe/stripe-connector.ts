import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import { BodyTooLargeError, readRawBody } from '../../adapters/http/read-body.js';
import type { Logger } from '../../log/logger.js';
import { decideStripeWebhook } from './stripe-webhook.js';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
/** Stripe events are well under this; anything larger is not a Stripe event. */
export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

export interface StripeConnectorOptions {
  readonly publisher: EventSink;
  readonly topic: string;
  readonly webhookSecrets: readonly string[];
  readonly logger: Logger;
  readonly now: () => number;
  readonly maxBodyBytes?: number;
}

/**
 * POST /webhooks/stripe: 200 only after the broker acknowledged the event (so a lost write makes Stripe retry),
 * 400 for anything unsigned or invalid (nothing published), 413 over the size limit, 503 when the broker did not
 * confirm the write. Returns false for requests that are not its route.
 */
export function stripeWebhookRoute(options: StripeConnectorOptions) {
  const log = options.logger.child({ route: STRIPE_WEBHOOK_PATH });
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (request.url?.split('?')[0] !== STRIPE_WEBHOOK_PATH) return false;
    if (request.method !== 'POST') {
      reply(response, 405, { error: 'use POST' });
      return true;
    }
    let body: Buffer;
    try {
      body = await readRawBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        reply(response, 413, { error: error.message });
        return true;
      }
      throw error;
    }
    const signature = request.headers['stripe-signature'];
    const decision = decideStripeWebhook(
      body,
      Array.isArray(signature) ? signature[0] : signature,
      options.webhookSecrets,
      options.now(),
    );
    switch (decision.action) {
      case 'reject':
        log.warn({ reason: decision.reason }, 'stripe webhook rejected');
        reply(response, decision.status, { error: decision.reason });
        return true;
      case 'ignore':
        log.debug({ type: decision.type }, 'stripe event type not used: acknowledged and ignored');
        reply(response, 200, { received: true, ignored: true });
        return true;
      case 'publish':
        try {
          await options.publisher.publish(options.topic, [decision.event]);
        } catch (error) {
          log.error(
            { err: error, eventId: decision.event.event_id },
            'stripe event not written: answering 503 so Stripe retries',
          );
          reply(response, 503, { error: 'event could not be written; retry later' });
          return true;
        }
        reply(response, 200, { received: true });
        return true;
    }
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
