import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Route } from '../../adapters/http/http-server.js';
import { BodyTooLargeError, readRawBody } from '../../adapters/http/read-body.js';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import type { Logger } from '../../log/logger.js';
import type { SegmentDecision, SegmentErrorBody, SegmentRequestResult } from './segment-decision.js';
import { SEGMENT_LIMITS, type SegmentLimits } from './segment-limits.js';
import { trackingApiEndpoint, type TrackingApiEndpoint } from './tracking-api-endpoints.js';
import { decideTrackingApiRequest } from './tracking-api-request.js';
import { decideWebhookDelivery } from './webhook-delivery.js';
import { AcceptedWriteKeys } from './write-key.js';

export const SEGMENT_WEBHOOK_PATH = '/webhooks/segment';

export interface SegmentConnectorOptions {
  readonly publisher: EventSink;
  /** Full name of the segment.events topic. */
  readonly topic: string;
  /** SEGMENT_SHARED_SECRET: verifies POST /webhooks/segment (any of them); empty → every delivery is refused with 401. */
  readonly sharedSecrets: readonly string[];
  /** SEGMENT_WRITE_KEYS: accepted on the Tracking API endpoints; empty → every call is refused with 401. */
  readonly writeKeys: readonly string[];
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * Called once per request answered (a CORS preflight excepted) with the path it was sent to, what became of it
   * and how long answering took, broker acknowledgement included: for persona_stream_webhook_requests_total and
   * persona_stream_webhook_request_duration_seconds.
   */
  readonly onResult?: (route: string, result: SegmentRequestResult, durationSeconds: number) => void;
  readonly limits?: Partial<SegmentLimits>;
}

/** Both Segment routes: the Webhooks destination and the Tracking-API-compatible endpoints. */
export function segmentRoutes(options: SegmentConnectorOptions): Route[] {
  return [segmentWebhookRoute(options), trackingApiRoute(options)];
}

/**
 * POST /webhooks/segment (Segment Webhooks destination, classic or Actions): 401 unless X-Signature verifies,
 * 413 over the body limit, 400 when nothing in it is valid, 200 only after the broker acknowledged every valid
 * message, 503 when it did not (Segment retries 5xx for up to 4 h).
 */
export function segmentWebhookRoute(options: SegmentConnectorOptions): Route {
  const limits = { ...SEGMENT_LIMITS, ...options.limits };
  const policy = { sharedSecrets: options.sharedSecrets, maxEventBytes: limits.maxWebhookEventBytes };
  const respond = responder(options, {});
  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<SegmentRequestResult> => {
    if (request.method !== 'POST') return respond.refuse(response, SEGMENT_WEBHOOK_PATH, 405, 'invalid', USE_POST);
    const body = await readBody(request, limits.maxWebhookBodyBytes);
    if (body instanceof BodyTooLargeError)
      return respond.refuse(response, SEGMENT_WEBHOOK_PATH, 413, 'too_large', tooLarge(body));
    const signature = request.headers['x-signature'];
    const delivery = {
      body,
      signature: Array.isArray(signature) ? signature[0] : signature,
      receivedAt: options.now(),
    };
    return respond.carryOut(response, SEGMENT_WEBHOOK_PATH, decideWebhookDelivery(delivery, policy));
  };
  return async (request, response) => {
    if (pathOf(request) !== SEGMENT_WEBHOOK_PATH) return false;
    await counted(options, SEGMENT_WEBHOOK_PATH, () => answer(request, response));
    return true;
  };
}

/**
 * The Tracking API as Segment's libraries call it: POST /v1/{track,identify,group,page,screen,alias,batch,import}
 * and analytics.js' /v1/{t,i,g,p,s,a,b}. Write key from Basic auth or the body (401 otherwise); JSON read whatever
 * the Content-Type; 400 for a message over 32 KB or a body over 500 KB (as Segment answers); 200
 * `{"success":true}` only after the broker acknowledged every valid message, 503 when it did not. Responses allow
 * any origin, so analytics.js can post from a browser.
 */
export function trackingApiRoute(options: SegmentConnectorOptions): Route {
  const limits = { ...SEGMENT_LIMITS, ...options.limits };
  const policy = {
    writeKeys: new AcceptedWriteKeys(options.writeKeys),
    maxEventBytes: limits.maxEventBytes,
    maxBatchEvents: limits.maxBatchEvents,
  };
  const respond = responder(options, CORS_HEADERS);
  const answer = async (
    request: IncomingMessage,
    response: ServerResponse,
    route: string,
    endpoint: TrackingApiEndpoint,
  ): Promise<SegmentRequestResult> => {
    if (request.method !== 'POST') return respond.refuse(response, route, 405, 'invalid', USE_POST);
    const body = await readBody(request, limits.maxRequestBytes);
    if (body instanceof BodyTooLargeError) return respond.refuse(response, route, 400, 'too_large', tooLarge(body));
    const authorization = request.headers.authorization;
    const decision = decideTrackingApiRequest({ endpoint, authorization, body, receivedAt: options.now() }, policy);
    return respond.carryOut(response, route, decision);
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
    await counted(options, route, () => answer(request, response, route, endpoint));
    return true;
  };
}

const USE_POST: SegmentErrorBody = { success: false, code: 'method_not_allowed', message: 'use POST' };

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type',
};

/** Reports the result of one answered request and the time it took, broker acknowledgement included. */
async function counted(
  options: SegmentConnectorOptions,
  route: string,
  answer: () => Promise<SegmentRequestResult>,
): Promise<void> {
  const started = performance.now();
  const result = await answer();
  options.onResult?.(route, result, (performance.now() - started) / 1000);
}

/** Answers a request from its decision, publishing first when asked to; returns what became of it. */
function responder(options: SegmentConnectorOptions, extraHeaders: Readonly<Record<string, string>>) {
  const log = options.logger.child({ connector: 'segment' });
  const reply = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...extraHeaders, ...headers });
    response.end(JSON.stringify(body));
  };
  const refuse = (
    response: ServerResponse,
    route: string,
    status: number,
    result: SegmentRequestResult,
    body: SegmentErrorBody,
  ): SegmentRequestResult => {
    log.warn({ route, status, code: body.code, reason: body.message }, 'segment request refused');
    const headers: Record<string, string> =
      status === 401 ? { 'www-authenticate': 'Basic realm="segment"' } : status === 405 ? { allow: 'POST' } : {};
    reply(response, status, body, headers);
    return result;
  };
  const carryOut = async (
    response: ServerResponse,
    route: string,
    decision: SegmentDecision,
  ): Promise<SegmentRequestResult> => {
    switch (decision.action) {
      case 'reject':
        return refuse(response, route, decision.status, decision.result, decision.body);
      case 'ignore':
        log.info({ route, reason: decision.reason }, 'segment request acknowledged, nothing to publish');
        reply(response, 200, decision.body);
        return 'ignored';
      case 'publish':
        try {
          await options.publisher.publish(options.topic, decision.events);
        } catch (error) {
          log.error(
            { err: error, route, events: decision.events.length },
            'segment events not written: answering 503 so the sender retries',
          );
          reply(response, 503, BROKER_UNAVAILABLE);
          return 'broker_unavailable';
        }
        if (decision.body.errors !== undefined) {
          log.warn(
            { route, published: decision.events.length, refused: decision.body.errors },
            'segment batch partly refused; the valid messages were published',
          );
        }
        reply(response, 200, decision.body);
        return 'accepted';
    }
  };
  return { refuse, carryOut };
}

const BROKER_UNAVAILABLE: SegmentErrorBody = {
  success: false,
  code: 'broker_unavailable',
  message: 'the events could not be written; retry later',
};

async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer | BodyTooLargeError> {
  try {
    return await readRawBody(request, limitBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return error;
    throw error;
  }
}

function tooLarge(error: BodyTooLargeError): SegmentErrorBody {
  return { success: false, code: 'request_too_large', message: error.message };
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
