import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../adapters/http/http-server.js';
import { retryAfterSeconds } from '../../adapters/http/keyed-rate-limiter.js';
import { BodyTooLargeError } from '../../adapters/http/read-body.js';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import type { Logger } from '../../log/logger.js';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import type { ConnectorResult } from '../connector-result.js';
import { countedAnswer } from '../counted-answer.js';
import type { Admission } from '../rate-limits.js';
import { RefusalLog } from '../refusal-log.js';
import { answer, headerOf, pathOf, readBodyWithin } from '../request-io.js';
import { ChargeLookupError, type ChargeCustomerResolver } from './charge-customer-resolver.js';
import type { DeadLetterSink } from './dead-letter-sink.js';
import {
  decideResolvedDispute,
  decideStripeEvent,
  refuseStripeHeader,
  stripeWebhookDeadLetter,
  type StripeWebhookDecision,
  type StripeWebhookRejection,
  verifyStripeWebhook,
} from './stripe-webhook.js';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
/** Stripe events are well under this; anything larger is not a Stripe event. */
export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

export interface StripeConnectorOptions {
  readonly publisher: EventSink;
  readonly topic: string;
  readonly webhookSecrets: readonly string[];
  /** MAX_EVENT_TIME_SKEW_MS: how far past its arrival an event's `created` may lie (later: refused). */
  readonly maxEventTimeSkewMs?: number;
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
  /** The rate limit of Stripe's deliveries (key: the route), admitted once a delivery's signature verified. */
  readonly admit?: Admission;
  /** Where refusals are logged (sampled); one per process so `all` shares it. */
  readonly refusals?: RefusalLog;
}

/** The outcome of a webhook as the persona_stream_webhook_requests_total{result} label counts it. */
export type StripeWebhookResult = Exclude<ConnectorResult, 'rejected_write_key' | 'batch_disabled' | 'duplicate'>;

/**
 * POST /webhooks/stripe: 200 only after the broker acknowledged the event (so a lost write makes Stripe retry), 400
 * for anything unsigned or invalid (nothing published; a missing, malformed or stale signature is refused from the
 * header, before the body is read; the signature is checked over the raw bytes before anything parses them), 413
 * over the size limit, 429 over the source's rate limit, 503 when the broker did not confirm the write or a disputed
 * charge could not be fetched. A dispute whose charge is only an id is re-keyed by the charge's customer; a valid
 * event with no customer at all is acknowledged and written to the dead-letter topic. Returns false for requests
 * that are not its route.
 */
export function stripeWebhookRoute(options: StripeConnectorOptions): Route {
  const log = options.logger.child({ route: STRIPE_WEBHOOK_PATH });
  const refusals = options.refusals ?? new RefusalLog(options.logger, options.now);
  const admit = options.admit ?? (() => 0);

  function refuse(request: IncomingMessage, response: ServerResponse, refusal: StripeRefusal): StripeWebhookResult {
    refusals.refused({
      route: STRIPE_WEBHOOK_PATH,
      status: refusal.status,
      code: refusal.code,
      reason: refusal.reason,
    });
    const headers =
      refusal.status === 429
        ? { 'retry-after': retryAfterSeconds(refusal.retryAfterMs) }
        : refusal.status === 405
          ? { allow: 'POST' }
          : {};
    answer(request, response, refusal.status, { error: refusal.reason }, headers);
    return refusal.result;
  }

  async function publish(
    request: IncomingMessage,
    response: ServerResponse,
    event: CanonicalEvent,
  ): Promise<StripeWebhookResult> {
    try {
      await options.publisher.publish(options.topic, [event]);
    } catch (error) {
      log.error({ err: error, eventId: event.event_id }, 'stripe event not written: answering 503 so Stripe retries');
      answer(request, response, 503, { error: 'event could not be written; retry later' });
      return 'broker_unavailable';
    }
    answer(request, response, 200, { received: true });
    return 'accepted';
  }

  async function deadLetter(
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer,
    decision: Extract<StripeWebhookDecision, { action: 'dead_letter' }>,
  ): Promise<StripeWebhookResult> {
    const target = options.deadLetters;
    if (target === undefined) {
      const refusal = { status: 400, result: 'invalid', code: 'missing_customer', reason: decision.reason } as const;
      return refuse(request, response, refusal);
    }
    try {
      await target.sink.write(target.topic, [stripeWebhookDeadLetter(body, decision, options.now())]);
    } catch (error) {
      log.error({ err: error, eventId: decision.eventId }, 'dead letter not written: answering 503 so Stripe retries');
      answer(request, response, 503, { error: 'event could not be written; retry later' });
      return 'broker_unavailable';
    }
    log.warn({ eventId: decision.eventId, reason: decision.reason }, 'stripe event without customer dead-lettered');
    answer(request, response, 200, { received: true, dead_lettered: true });
    return 'dead_lettered';
  }

  async function act(
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer,
    decision: StripeWebhookDecision,
  ): Promise<StripeWebhookResult> {
    switch (decision.action) {
      case 'reject':
        return refuse(request, response, decision);
      case 'ignore':
        log.debug({ type: decision.type }, 'stripe event type not used: acknowledged and ignored');
        answer(request, response, 200, { received: true, ignored: true });
        return 'ignored';
      case 'publish':
        return publish(request, response, decision.event);
      case 'dead_letter':
        return deadLetter(request, response, body, decision);
      case 'resolve_charge_customer': {
        const resolver = options.chargeCustomers;
        if (resolver === undefined) {
          const reason = `${decision.reason} (no STRIPE_API_KEY to fetch the charge with)`;
          const missing = {
            action: 'dead_letter',
            code: 'missing_customer',
            eventId: decision.eventId,
            reason,
          } as const;
          return deadLetter(request, response, body, missing);
        }
        let customerId: string | null;
        try {
          customerId = await resolver.customerOf(decision.chargeId);
        } catch (error) {
          if (!(error instanceof ChargeLookupError)) throw error;
          log.error({ err: error, eventId: decision.eventId }, 'disputed charge not fetched: answering 503');
          answer(request, response, 503, { error: 'the disputed charge could not be fetched; retry later' });
          return 'lookup_failed';
        }
        return act(
          request,
          response,
          body,
          decideResolvedDispute(decision, customerId, options.now(), options.maxEventTimeSkewMs),
        );
      }
    }
  }

  async function answerDelivery(request: IncomingMessage, response: ServerResponse): Promise<StripeWebhookResult> {
    if (request.method !== 'POST') {
      return refuse(request, response, {
        status: 405,
        result: 'invalid',
        code: 'method_not_allowed',
        reason: 'use POST',
      });
    }
    const signature = headerOf(request, 'stripe-signature');
    const early = refuseStripeHeader(signature, options.now());
    if (early !== undefined) return refuse(request, response, early);
    const limitBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const body = await readBodyWithin(request, limitBytes);
    if (body instanceof BodyTooLargeError) {
      return refuse(request, response, {
        status: 413,
        result: 'too_large',
        code: 'request_too_large',
        reason: body.message,
      });
    }
    const forged = verifyStripeWebhook(body, signature, options.webhookSecrets, options.now());
    if (forged !== undefined) return refuse(request, response, forged);
    // Only deliveries that proved they come from Stripe count against its rate limit: a forger spends nobody's.
    const waitMs = admit(STRIPE_WEBHOOK_PATH);
    if (waitMs > 0) {
      const reason = 'over the rate limit of Stripe webhooks; retry after Retry-After';
      return refuse(request, response, {
        status: 429,
        result: 'rate_limited',
        code: 'rate_limited',
        reason,
        retryAfterMs: waitMs,
      });
    }
    return act(
      request,
      response,
      body,
      guarded(() => decideStripeEvent(body, options.now(), options.maxEventTimeSkewMs)),
    );
  }

  return async (request, response) => {
    if (pathOf(request) !== STRIPE_WEBHOOK_PATH) return false;
    await countedAnswer<StripeWebhookResult>(request, options.onResult, () => answerDelivery(request, response));
    return true;
  };
}

type StripeRefusal =
  | Pick<StripeWebhookRejection, 'status' | 'result' | 'code' | 'reason'>
  | {
      readonly status: 405 | 413 | 400;
      readonly result: 'invalid' | 'too_large';
      readonly code: 'method_not_allowed' | 'request_too_large' | 'missing_customer';
      readonly reason: string;
    }
  | {
      readonly status: 429;
      readonly result: 'rate_limited';
      readonly code: 'rate_limited';
      readonly reason: string;
      readonly retryAfterMs: number;
    };

/** A decision that a body no check foresaw made throw (a RangeError, say) is a 400, never a 500. */
function guarded(decide: () => StripeWebhookDecision): StripeWebhookDecision {
  try {
    return decide();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return {
      action: 'reject',
      status: 400,
      result: 'invalid',
      code: 'invalid_event',
      reason: 'the body could not be read as a Stripe event',
    };
  }
}
