import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { retryAfterSeconds } from '../../adapters/http/keyed-rate-limiter.js';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import type { Logger } from '../../log/logger.js';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import type { RefusalLog } from '../refusal-log.js';
import { answer } from '../request-io.js';
import type {
  SegmentErrorBody,
  SegmentRejection,
  SegmentRequestResult,
  SegmentSuccessBody,
} from './segment-decision.js';

export interface SegmentResponderOptions {
  readonly publisher: EventSink;
  readonly topic: string;
  readonly logger: Logger;
  readonly refusals: RefusalLog;
  /** Headers on every answer of the route (CORS on the Tracking API). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SegmentResponder {
  refuse(
    request: IncomingMessage,
    response: ServerResponse,
    route: string,
    refusal: SegmentRejection,
  ): SegmentRequestResult;
  ignore(request: IncomingMessage, response: ServerResponse, route: string, reason: string): 'ignored';
  duplicate(request: IncomingMessage, response: ServerResponse, route: string, events: number): 'duplicate';
  /** A copy of a delivery still being written: 503, so the sender retries once the original has settled. */
  inFlight(request: IncomingMessage, response: ServerResponse, route: string): 'duplicate';
  /** Publishes, then answers 200 with `body`, or 503 when the broker did not confirm the write. */
  publish(
    request: IncomingMessage,
    response: ServerResponse,
    route: string,
    events: readonly CanonicalEvent[],
    body: SegmentSuccessBody,
  ): Promise<'accepted' | 'broker_unavailable'>;
}

/** How a Segment route answers; refusals are logged sampled (RefusalLog), never with a value from the request. */
export function segmentResponder(options: SegmentResponderOptions): SegmentResponder {
  const log = options.logger.child({ connector: 'segment' });
  const reply = (
    request: IncomingMessage,
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: OutgoingHttpHeaders = {},
  ) => {
    answer(request, response, status, body, { ...options.headers, ...headers });
  };
  return {
    refuse(request, response, route, refusal) {
      const { status, body } = refusal;
      options.refusals.refused({ route, status, code: body.code, reason: body.message });
      reply(request, response, status, body, refusalHeaders(refusal));
      return refusal.result;
    },
    ignore(request, response, route, reason) {
      log.debug({ route, reason }, 'segment request acknowledged, nothing to publish');
      reply(request, response, 200, { success: true, ignored: true } satisfies SegmentSuccessBody);
      return 'ignored';
    },
    duplicate(request, response, route, events) {
      log.debug({ route, events }, 'segment delivery already published: acknowledged, nothing published');
      reply(request, response, 200, { success: true, duplicate: true } satisfies SegmentSuccessBody);
      return 'duplicate';
    },
    inFlight(request, response, route) {
      options.refusals.refused({ route, status: 503, code: 'in_flight', reason: IN_FLIGHT.message });
      reply(request, response, 503, IN_FLIGHT, { 'retry-after': '1' });
      return 'duplicate';
    },
    async publish(request, response, route, events, body) {
      try {
        await options.publisher.publish(options.topic, events);
      } catch (error) {
        log.error(
          { err: error, route, events: events.length },
          'segment events not written: answering 503 so the sender retries',
        );
        reply(request, response, 503, BROKER_UNAVAILABLE);
        return 'broker_unavailable';
      }
      const [first] = body.errors ?? [];
      if (first !== undefined) {
        options.refusals.refused(
          { route, status: 200, code: 'partly_refused', reason: first.message },
          { published: events.length, refused: body.errors?.length },
          'segment batch partly refused; the valid messages were published',
        );
      }
      reply(request, response, 200, body);
      return 'accepted';
    },
  };
}

function refusalHeaders(refusal: SegmentRejection): OutgoingHttpHeaders {
  if (refusal.status === 401) return { 'www-authenticate': 'Basic realm="segment"' };
  if (refusal.status === 405) return { allow: 'POST' };
  if (refusal.status === 429) return { 'retry-after': retryAfterSeconds(refusal.retryAfterMs ?? 1_000) };
  return {};
}

const BROKER_UNAVAILABLE: SegmentErrorBody = {
  success: false,
  code: 'broker_unavailable',
  message: 'the events could not be written; retry later',
};

const IN_FLIGHT: SegmentErrorBody = {
  success: false,
  code: 'in_flight',
  message: 'a copy of this delivery is being written; retry later',
};
