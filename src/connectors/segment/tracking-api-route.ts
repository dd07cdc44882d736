import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../adapters/http/http-server.js';
import { BodyTooLargeError } from '../../adapters/http/read-body.js';
import { countedAnswer } from '../counted-answer.js';
import { RefusalLog } from '../refusal-log.js';
import { headerOf, pathOf, readBodyWithin } from '../request-io.js';
import type { SegmentConnectorOptions } from './segment-connector.js';
import { guardedDecision, rateLimited, rejection, type SegmentRequestResult } from './segment-decision.js';
import { SEGMENT_LIMITS } from './segment-limits.js';
import { segmentResponder } from './segment-responder.js';
import { trackingApiEndpoint, type TrackingApiEndpoint } from './tracking-api-endpoints.js';
import { decideTrackingApiRequest } from './tracking-api-request.js';
import { AcceptedWriteKeys, writeKeyFromAuthorization } from './write-key.js';

/**
 * The Tracking API as Segment's libraries call it: POST /v1/{track,identify,group,page,screen,alias,batch,import}
 * and analytics.js' /v1/{t,i,g,p,s,a,b}. Write key from Basic auth (checked, with its rate limit, before the body is
 * read) or the body (401 otherwise; 429 over the key's rate limit); JSON read whatever the Content-Type, its nesting
 * bounded before it is parsed; 400 for a message over 32 KB or a body over 500 KB (as Segment answers); 200
 * `{"success":true}` only after the broker acknowledged every valid message, 503 when it did not. Responses allow
 * any origin, so analytics.js can post from a browser. Write keys are public (analytics.js ships them), so they
 * separate senders rather than keep anyone out.
 */
export function trackingApiRoute(options: SegmentConnectorOptions): Route {
  const limits = { ...SEGMENT_LIMITS, ...options.limits };
  const writeKeys = new AcceptedWriteKeys(options.writeKeys);
  const admit = options.admitWriteKey ?? (() => 0);
  const respond = segmentResponder({
    ...options,
    refusals: options.refusals ?? new RefusalLog(options.logger, options.now),
    headers: CORS_HEADERS,
  });

  const answerCall = async (
    request: IncomingMessage,
    response: ServerResponse,
    route: string,
    endpoint: TrackingApiEndpoint,
  ): Promise<SegmentRequestResult> => {
    if (request.method !== 'POST') {
      return respond.refuse(request, response, route, rejection(405, 'invalid', 'method_not_allowed', 'use POST'));
    }
    const authorization = headerOf(request, 'authorization');
    const headerKey = writeKeyFromAuthorization(authorization);
    if (headerKey !== undefined) {
      const verdict = writeKeys.verify(headerKey, undefined);
      if (!verdict.ok) {
        return respond.refuse(
          request,
          response,
          route,
          rejection(401, 'rejected_write_key', verdict.code, verdict.message),
        );
      }
      const waitMs = admit(headerKey);
      if (waitMs > 0) return respond.refuse(request, response, route, rateLimited(waitMs, 'its write key'));
    }
    const limitBytes = endpoint.kind === 'single' ? limits.maxSingleCallBytes : limits.maxRequestBytes;
    const body = await readBodyWithin(request, limitBytes);
    if (body instanceof BodyTooLargeError) {
      return respond.refuse(request, response, route, rejection(400, 'too_large', 'request_too_large', body.message));
    }
    const policy = {
      writeKeys,
      maxEventBytes: limits.maxEventBytes,
      maxBatchEvents: limits.maxBatchEvents,
      maxEventTimeSkewMs: limits.maxEventTimeSkewMs,
      admitBodyKey: headerKey === undefined ? admit : undefined,
    };
    const decision = guardedDecision(() =>
      decideTrackingApiRequest({ endpoint, authorization, body, receivedAt: options.now() }, policy),
    );
    switch (decision.action) {
      case 'reject':
        return respond.refuse(request, response, route, decision);
      case 'ignore':
        return respond.ignore(request, response, route, decision.reason);
      case 'publish':
        return respond.publish(request, response, route, decision.events, decision.body);
    }
  };
  return async (request, response) => {
    const route = pathOf(request);
    const endpoint = trackingApiEndpoint(route);
    if (endpoint === undefined) return false;
    if (request.method === 'OPTIONS') {
      // The CORS preflight a browser may send; not a request to count.
      response.writeHead(204, { ...CORS_HEADERS, 'access-control-max-age': '86400' });
      response.end();
      return true;
    }
    await countedAnswer(
      request,
      (result, seconds) => options.onResult?.(route, result, seconds),
      () => answerCall(request, response, route, endpoint),
    );
    return true;
  };
}

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type',
};
