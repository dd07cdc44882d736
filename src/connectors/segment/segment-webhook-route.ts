import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../adapters/http/http-server.js';
import { BodyTooLargeError } from '../../adapters/http/read-body.js';
import { countedAnswer } from '../counted-answer.js';
import { RefusalLog } from '../refusal-log.js';
import { headerOf, pathOf, readBodyWithin } from '../request-io.js';
import { SecretSet } from '../secret-set.js';
import { BATCH_TOKEN_HEADER, ENABLE_BATCHES_HINT } from './batch-token.js';
import type { SegmentConnectorOptions } from './segment-connector.js';
import { guardedDecision, rateLimited, rejection, type SegmentRequestResult } from './segment-decision.js';
import { SEGMENT_LIMITS } from './segment-limits.js';
import { segmentResponder } from './segment-responder.js';
import { admitWebhookDelivery, verifyWebhookBody } from './webhook-authentication.js';
import { decideWebhookDelivery } from './webhook-delivery.js';
import { WebhookReplays } from './webhook-replays.js';

export const SEGMENT_WEBHOOK_PATH = '/webhooks/segment';

/**
 * POST /webhooks/segment (Segment Webhooks destination, classic or Actions). Nothing of a delivery is parsed before
 * it is authenticated: from the headers, 401 without a well-formed X-Signature (or with a wrong batch token); at most
 * one event's size is read unless the batch token came (413); the signature is checked over the raw bytes (401), a
 * batch is refused without the token (403). Then its source's rate limit (429), 400 when nothing in it is valid, 200
 * with nothing published for a replay, 200 only after the broker acknowledged every new message, 503 when it did not
 * (Segment retries 5xx for up to 4 h).
 */
export function segmentWebhookRoute(options: SegmentConnectorOptions): Route {
  const limits = { ...SEGMENT_LIMITS, ...options.limits };
  const authentication = {
    sharedSecrets: options.sharedSecrets,
    batchTokens: new SecretSet(options.batchTokens ?? []),
    maxUnverifiedBytes: limits.maxWebhookEventBytes,
    maxBatchBytes: limits.maxWebhookBodyBytes,
  };
  const delivery = {
    maxEventBytes: limits.maxWebhookEventBytes,
    maxEvents: limits.maxWebhookBatchEvents,
    maxEventTimeSkewMs: limits.maxEventTimeSkewMs,
  };
  const replays = options.replays ?? new WebhookReplays();
  const admit = options.admitWebhook ?? (() => 0);
  const respond = segmentResponder({
    ...options,
    refusals: options.refusals ?? new RefusalLog(options.logger, options.now),
  });
  const route = SEGMENT_WEBHOOK_PATH;

  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<SegmentRequestResult> => {
    if (request.method !== 'POST') {
      return respond.refuse(request, response, route, rejection(405, 'invalid', 'method_not_allowed', 'use POST'));
    }
    const credentials = {
      signature: headerOf(request, 'x-signature'),
      batchToken: headerOf(request, BATCH_TOKEN_HEADER),
    };
    const admission = admitWebhookDelivery(credentials, authentication);
    if (admission.action === 'reject') return respond.refuse(request, response, route, admission);
    // Only authenticated deliveries count against the source's rate limit, so a forger spends nobody's budget: a
    // batch token authenticates from the headers (before megabytes are read), a signature once the body is read.
    const overLimit = () => {
      const waitMs = admit(route);
      return waitMs > 0 ? rateLimited(waitMs, 'the Segment Webhooks destination') : undefined;
    };
    const batchOverLimit = admission.batches ? overLimit() : undefined;
    if (batchOverLimit !== undefined) return respond.refuse(request, response, route, batchOverLimit);
    const raw = await readBodyWithin(request, admission.limitBytes);
    if (raw instanceof BodyTooLargeError) {
      const hint = admission.batches ? '' : `; ${ENABLE_BATCHES_HINT}`;
      const refusal = rejection(413, 'too_large', 'request_too_large', `${raw.message}${hint}`);
      return respond.refuse(request, response, route, refusal);
    }
    const verified = verifyWebhookBody(raw, admission.signature, admission.batches, authentication.sharedSecrets);
    if (verified.action === 'reject') return respond.refuse(request, response, route, verified);
    const singleOverLimit = admission.batches ? undefined : overLimit();
    if (singleOverLimit !== undefined) return respond.refuse(request, response, route, singleOverLimit);

    const decision = guardedDecision(() => decideWebhookDelivery(verified.body, options.now(), delivery));
    switch (decision.action) {
      case 'reject':
        return respond.refuse(request, response, route, decision);
      case 'ignore':
        return respond.ignore(request, response, route, decision.reason);
      case 'publish': {
        const now = options.now();
        const claim = replays.claim(verified.signedWhole ? admission.signature : undefined, decision.events, now);
        if (claim.kind === 'duplicate') return respond.duplicate(request, response, route, decision.events.length);
        if (claim.kind === 'in_flight') return respond.inFlight(request, response, route);
        let result: SegmentRequestResult = 'broker_unavailable';
        try {
          result = await respond.publish(request, response, route, claim.events, decision.body);
        } finally {
          replays.settle(claim.keys, result === 'accepted', options.now());
        }
        return result;
      }
    }
  };
  return async (request, response) => {
    if (pathOf(request) !== route) return false;
    await countedAnswer(
      request,
      (result, seconds) => options.onResult?.(route, result, seconds),
      () => answer(request, response),
    );
    return true;
  };
}
