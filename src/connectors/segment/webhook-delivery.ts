import type { EpochMs } from '../../domain/time.js';
import { isPlainObject } from '../../sources/segment/json-value.js';
import { rejection, type SegmentDecision } from './segment-decision.js';
import { decideMessages, oversizeEvent, withoutFields } from './segment-messages.js';

export interface WebhookDeliveryPolicy {
  readonly maxEventBytes: number;
  /** Items one delivery may hold. */
  readonly maxEvents: number;
  readonly maxEventTimeSkewMs?: number | undefined;
}

/** A credential is never published, whoever put it on the message. */
const CREDENTIAL_FIELDS = ['writeKey'] as const;

/**
 * One authenticated delivery from a Segment Webhooks destination (classic or Actions), already parsed (see
 * verifyWebhookBody): one message, an Actions batch (JSON array) or `{"batch":[…]}`. Deletion requests
 * (`{"type":"delete"}`, classic) are acknowledged and not published.
 */
export function decideWebhookDelivery(
  body: unknown,
  receivedAt: EpochMs,
  policy: WebhookDeliveryPolicy,
): SegmentDecision {
  const shape = deliveryShape(body);
  if (shape === undefined) {
    return rejection(400, 'invalid', 'invalid_payload', 'expected a Segment message, an array or {"batch":[…]}');
  }
  if (shape.items.length > policy.maxEvents) {
    return rejection(
      400,
      'too_large',
      'too_many_events',
      `the delivery holds ${String(shape.items.length)} messages; one may hold at most ${String(policy.maxEvents)}`,
    );
  }
  const oversize = oversizeEvent(shape.items, shape.kind === 'single', policy.maxEventBytes);
  if (oversize !== undefined) return oversize;
  if (shape.items.length > 0 && shape.items.every(isDeletionRequest)) {
    return {
      action: 'ignore',
      reason: `${String(shape.items.length)} deletion request(s) acknowledged, not used`,
      body: { success: true, ignored: true },
    };
  }
  const prepared = shape.items.map((item) => withoutFields(item, CREDENTIAL_FIELDS));
  const payload =
    shape.kind === 'array' ? prepared : shape.kind === 'batch' ? { ...shape.envelope, batch: prepared } : prepared[0];
  return decideMessages(payload, {
    receivedAt,
    maxEventTimeSkewMs: policy.maxEventTimeSkewMs,
    ignoredItem: (index) => isDeletionRequest(shape.items[index]),
  });
}

type DeliveryShape =
  | { readonly kind: 'single'; readonly items: readonly unknown[] }
  | { readonly kind: 'array'; readonly items: readonly unknown[] }
  | { readonly kind: 'batch'; readonly items: readonly unknown[]; readonly envelope: Record<string, unknown> };

function deliveryShape(body: unknown): DeliveryShape | undefined {
  if (Array.isArray(body)) return { kind: 'array', items: body as unknown[] };
  if (!isPlainObject(body)) return undefined;
  const batch = body['batch'];
  if (batch === undefined) return { kind: 'single', items: [body] };
  return Array.isArray(batch) ? { kind: 'batch', items: batch as unknown[], envelope: body } : undefined;
}

function isDeletionRequest(item: unknown): boolean {
  return isPlainObject(item) && item['type'] === 'delete';
}
