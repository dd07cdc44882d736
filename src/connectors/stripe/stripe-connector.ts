import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import { BodyTooLargeError, readRawBody } from '../../adapters/http/read-body.js';
import type { Logger } from '../../log/logger.js';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import { ChargeLookupError, type ChargeCustomerResolver } from './charge-customer-resolver.js';
import type { DeadLetterSink } from './dead-letter-sink.js';
import {
  decideResolvedDispute,
  decideStripeWebhook,
  stripeWebhookDeadLetter,
  type StripeWebhookDecision,
} from './stripe-webhook.js';

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
  /** Every answer, with how long it took (the webhook request metrics hook here). */
  readonly onResult?: (result: StripeWebhookResult, seconds: number) => void;
  /** Learns the customer of a dispute whose charge is not expanded (needs STRIPE_API_KEY); absent → dead letter. */
  readonly chargeCustomers?: ChargeCustomerResolver | undefined;
  /**
   * Where valid events that no customer can key go (answered 200). Absent: such events are refused with 400, so
   * Stripe keeps them and retries.
   */
  readonly deadLetters?: { readonly sink: DeadLetterSink; readonly topic: string } | undefined;
}

/**
 * POST /webhooks/stripe: 200 only after the broker acknowledged the event (so a lost write makes Stripe retry),
 * 400 for anything unsigned or invalid (nothing published), 413 over the size limit, 503 when the broker did not
 * confirm the write or a disputed charge could not be fetched. A dispute whose charge is only an id is re-keyed by
 * the charge's customer; a valid event with no customer at all is acknowledged and written to the dead-letter
 * topic. Returns false for requests that are not its route.
 */
export function stripeWebhookRoute(options: StripeConnectorOptions) {
  const log = options.logger.child({ route: STRIPE_WEBHOOK_PATH });
  const started = new WeakMap<ServerResponse, number>();

  function reply(response: ServerResponse, status: number, body: unknown, result: StripeWebhookResult): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
    const since = started.get(response);
    options.onResult?.(result, since === undefined ? 0 : (performance.now() - since) / 1_000);
  }

  async function publish(response: ServerResponse, event: CanonicalEvent): Promise<void> {
    try {
      await options.publisher.publish(options.topic, [event]);
    } catch (error) {
      log.error({ err: error, eventId: event.event_id }, 'stripe event not written: answering 503 so Stripe retries');
      reply(response, 503, { error: 'event could not be written; retry later' }, 'broker_unavailable');
      return;
    }
    reply(response, 200, { received: true }, 'accepted');
  }

  async function deadLetter(
    response: ServerResponse,
    body: Buffer,
    decision: Extract<StripeWebhookDecision, { action: 'dead_letter' }>,
  ): Promise<void> {
    const target = options.deadLetters;
    if (target === undefined) {
      log.warn({ eventId: decision.eventId, reason: decision.reason }, 'stripe event without customer refused');
      reply(response, 400, { error: decision.reason }, 'invalid');
      return;
    }
    try {
      await target.sink.write(target.topic, [stripeWebhookDeadLetter(body, decision, options.now())]);
    } catch (error) {
      log.error({ err: error, eventId: decision.eventId }, 'dead letter not written: answering 503 so Stripe retries');
      reply(response, 503, { error: 'event could not be written; retry later' }, 'broker_unavailable');
      return;
    }
    log.warn({ eventId: decision.eventId, reason: decision.reason }, 'stripe event without customer dead-lettered');
    reply(response, 200, { received: true, dead_lettered: true }, 'dead_lettered');
  }

  async function act(response: ServerResponse, body: Buffer, decision: StripeWebhookDecision): Promise<void> {
    switch (decision.action) {
      case 'reject':
        log.warn({ reason: decision.reason }, 'stripe webhook rejected');
        reply(response, decision.status, { error: decision.reason }, rejection(decision.reason));
        return;
      case 'ignore':
        log.debug({ type: decision.type }, 'stripe event type not used: acknowledged and ignored');
        reply(response, 200, { received: true, ignored: true }, 'ignored');
        return;
      case 'publish':
        await publish(response, decision.event);
        return;
      case 'dead_letter':
        await deadLetter(response, body, decision);
        return;
      case 'resolve_charge_customer': {
        const resolver = options.chargeCustomers;
        if (resolver === undefined) {
          const reason = `${decision.reason} (no STRIPE_API_KEY to fetch the charge with)`;
          await deadLetter(response, body, {
            action: 'dead_letter',
            code: 'missing_customer',
            eventId: decision.eventId,
            reason,
          });
          return;
        }
        let customerId: string | null;
        try {
          customerId = await resolver.customerOf(decision.chargeId);
        } catch (error) {
          if (!(error instanceof ChargeLookupError)) throw error;
          log.error({ err: error, eventId: decision.eventId }, 'disputed charge not fetched: answering 503');
          reply(response, 503, { error: 'the disputed charge could not be fetched; retry later' }, 'lookup_failed');
          return;
        }
        await act(response, body, decideResolvedDispute(decision, customerId, options.now()));
        return;
      }
    }
  }

  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (request.url?.split('?')[0] !== STRIPE_WEBHOOK_PATH) return false;
    started.set(response, performance.now());
    if (request.method !== 'POST') {
      reply(response, 405, { error: 'use POST' }, 'invalid');
      return true;
    }
    let body: Buffer;
    try {
      body = await readRawBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        reply(response, 413, { error: error.message }, 'too_large');
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
    await act(response, body, decision);
    return true;
  };
}

/** The outcome of a webhook as the persona_stream_webhook_requests_total{result} label counts it. */
export type StripeWebhookResult =
  | 'accepted'
  | 'ignored'
  | 'dead_lettered'
  | 'rejected_signature'
  | 'invalid'
  | 'too_large'
  | 'broker_unavailable'
  | 'lookup_failed';

function rejection(reason: string): StripeWebhookResult {
  return /signature|timestamp|tolerance/i.test(reason) ? 'rejected_signature' : 'invalid';
}
