import type { Route } from '../../adapters/http/http-server.js';
import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import type { Logger } from '../../log/logger.js';
import type { Admission } from '../rate-limits.js';
import type { RefusalLog } from '../refusal-log.js';
import type { SegmentRequestResult } from './segment-decision.js';
import type { SegmentLimits } from './segment-limits.js';
import { trackingApiRoute } from './tracking-api-route.js';
import { segmentWebhookRoute } from './segment-webhook-route.js';
import type { WebhookReplays } from './webhook-replays.js';

export { SEGMENT_WEBHOOK_PATH } from './segment-webhook-route.js';

export interface SegmentConnectorOptions {
  readonly publisher: EventSink;
  /** Full name of the segment.events topic. */
  readonly topic: string;
  /** SEGMENT_SHARED_SECRET: verifies POST /webhooks/segment (any of them); empty → every delivery is refused with 401. */
  readonly sharedSecrets: readonly string[];
  /** SEGMENT_WEBHOOK_BATCH_TOKEN: lets a Webhooks destination deliver batches; empty → batches are refused. */
  readonly batchTokens?: readonly string[];
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
  /** Rate limit of the Webhooks destination (key: the route), admitted once a delivery is authenticated. */
  readonly admitWebhook?: Admission;
  /** Rate limit per write key on the Tracking API, admitted once the key is accepted. */
  readonly admitWriteKey?: Admission;
  /** Where refusals are logged (sampled); one per process so `all` shares it. */
  readonly refusals?: RefusalLog;
  /** Replayed Webhooks deliveries recognised; one per process. */
  readonly replays?: WebhookReplays;
}

/** Both Segment routes: the Webhooks destination and the Tracking-API-compatible endpoints. */
export function segmentRoutes(options: SegmentConnectorOptions): Route[] {
  return [segmentWebhookRoute(options), trackingApiRoute(options)];
}
