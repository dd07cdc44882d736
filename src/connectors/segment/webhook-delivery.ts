import type { EpochMs } from '../../domain/time.js';
import { isPlainObject } from '../../sources/segment/json-value.js';
import { rejection, type SegmentDecision } from './segment-decision.js';
import { decideMessages, JsonBodyError, oversizeEvent, parseJsonBody, withoutFields } from './segment-messages.js';
import { webhookSignatureMatches } from './x-signature.js';

export interface WebhookDelivery {
  /** The raw body, exactly as received (the signature covers these bytes), already held to the size limit. */
  readonly body: Buffer;
  readonly signature: string | undefined;
  readonly receivedAt: EpochMs;
}

export interface WebhookPolicy {
  /**
   * SEGMENT_SHARED_SECRET: a delivery signed with any of them is accepted (two while the secret is being rotated:
   * Segment does not retry a 401, so a delivery refused for an outdated secret would be lost). Empty refuses every
   * delivery, since none can be verified.
   */
  readonly sharedSecrets: readonly string[];
  readonly maxEventBytes: number;
}

/** A credential is never published, whoever put it on the message. */
const CREDENTIAL_FIELDS = ['writeKey'] as const;

/**
 * One delivery from a Segment Webhooks destination (classic or Actions): `X-Signature` verified before anything
 * is read (401, nothing published); the body may be one message, an Actions batch (JSON array) or
 * `{"batch":[…]}`. Deletion requests (`{"type":"delete"}`, classic) are acknowledged and not published.
 */
export function decideWebhookDelivery(delivery: WebhookDelivery, policy: WebhookPolicy): SegmentDecision {
  if (policy.sharedSecrets.length === 0) {
    return rejection(
      401,
      'rejected_signature',
      'invalid_signature',
      'SEGMENT_SHARED_SECRET is not set: no delivery can be verified, so none is accepted',
    );
  }
  if (delivery.signature === undefined || delivery.signature === '') {
    return rejection(401, 'rejected_signature', 'missing_signature', 'missing X-Signature header');
  }
  const body = parseJsonBody(delivery.body);
  const parsed = body instanceof JsonBodyError ? undefined : body;
  const signature = delivery.signature;
  if (!policy.sharedSecrets.some((secret) => webhookSignatureMatches(signature, secret, delivery.body, parsed))) {
    return rejection(401, 'rejected_signature', 'invalid_signature', 'X-Signature does not match the body');
  }
  if (body instanceof JsonBodyError) return rejection(400, 'invalid', 'invalid_json', body.message);

  const shape = deliveryShape(body);
  if (shape === undefined) {
    return rejection(400, 'invalid', 'invalid_payload', 'expected a Segment message, an array or {"batch":[…]}');
  }
  const oversize = oversizeEvent(shape.items, shape.kind === 'single', policy.maxEventBytes);
  if (oversize !== undefined) return oversize;
  if (shape.items.length > 0 && shape.items.every(isDeletionRequest)) {
    return {
      action: 'ignore',
      reason: `${shape.items.length} deletion request(s) acknowledged, not used`,
      body: { success: true, ignored: true },
    };
  }
  const prepared = shape.items.map((item) => withoutFields(item, CREDENTIAL_FIELDS));
  const payload =
    shape.kind === 'array' ? prepared : shape.kind === 'batch' ? { ...shape.envelope, batch: prepared } : prepared[0];
  return decideMessages(payload, {
    receivedAt: delivery.receivedAt,
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
