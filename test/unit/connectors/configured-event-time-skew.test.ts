import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { decideStripeWebhook } from '../../../src/connectors/stripe/stripe-webhook.js';
import { trackingApiEndpoint } from '../../../src/connectors/segment/tracking-api-endpoints.js';
import { decideTrackingApiRequest } from '../../../src/connectors/segment/tracking-api-request.js';
import { AcceptedWriteKeys } from '../../../src/connectors/segment/write-key.js';
import { SEGMENT_LIMITS } from '../../../src/connectors/segment/segment-limits.js';

const MINUTE = 60_000;
const RECEIVED = Date.UTC(2026, 5, 1, 12);

/** MAX_EVENT_TIME_SKEW_MS reaches the connectors' decisions: an event 5 min ahead passes at 24 h, not at 1 min. */
describe('the configured event-time skew in the connectors', () => {
  it('Segment Tracking API: refuses a message timed beyond receipt + the configured skew', () => {
    const endpoint = trackingApiEndpoint('/v1/track');
    if (endpoint === undefined) throw new Error('no /v1/track');
    const body = Buffer.from(
      JSON.stringify({
        userId: 'u_1',
        event: 'Order Completed',
        messageId: 'm-skew-1',
        timestamp: new Date(RECEIVED + 5 * MINUTE).toISOString(),
      }),
    );
    const decideWith = (maxEventTimeSkewMs: number | undefined) =>
      decideTrackingApiRequest(
        { endpoint, authorization: `Basic ${Buffer.from('wk_skew:').toString('base64')}`, body, receivedAt: RECEIVED },
        {
          writeKeys: new AcceptedWriteKeys(['wk_skew']),
          maxEventBytes: SEGMENT_LIMITS.maxEventBytes,
          maxBatchEvents: SEGMENT_LIMITS.maxBatchEvents,
          maxEventTimeSkewMs,
        },
      );
    expect(decideWith(undefined).action).toBe('publish');
    const refused = decideWith(MINUTE);
    expect(refused.action).toBe('reject');
    expect(JSON.stringify(refused)).not.toContain(new Date(RECEIVED + 5 * MINUTE).toISOString());
  });

  it('Stripe webhook: refuses an event created beyond receipt + the configured skew', () => {
    const event = JSON.parse(
      readFileSync(new URL('../../fixtures/stripe/basil-subscription-updated.json', import.meta.url), 'utf8'),
    ) as { created: number };
    event.created = Math.floor((RECEIVED + 5 * MINUTE) / 1000);
    const text = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({
      payload: text,
      secret: 'whsec_skew',
      timestamp: Math.floor(RECEIVED / 1000),
    });
    const decide = (skew: number | undefined) =>
      decideStripeWebhook(Buffer.from(text), header, ['whsec_skew'], RECEIVED, skew);
    expect(decide(undefined).action).toBe('publish');
    expect(decide(MINUTE).action).toBe('reject');
  });
});
