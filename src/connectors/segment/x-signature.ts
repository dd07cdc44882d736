import { createHmac, timingSafeEqual } from 'node:crypto';

const SHA1_HEX = /^[0-9A-Fa-f]{40}$/;

/** `X-Signature` as Segment computes it: hex HMAC-SHA1 of the UTF-8 text with the destination's shared secret. */
export function segmentSignature(secret: string, text: string | Buffer): string {
  return createHmac('sha1', secret).update(text).digest('hex');
}

/**
 * Whether `X-Signature` authenticates a Webhooks delivery (reference/segment.md §2.3). A single message is signed
 * over the raw body bytes. A batched delivery (a JSON array) is signed over its first element only, as
 * `JSON.stringify(element)`; the rest of such a batch is not covered by the signature. A `{"batch":[…]}` body is
 * accepted signed either way: over the raw body, or over its first message like an array.
 * `parsedBody` is the body as JSON (undefined when it is not JSON: then only the raw-body form can match).
 */
export function webhookSignatureMatches(header: string, secret: string, rawBody: Buffer, parsedBody: unknown): boolean {
  if (!SHA1_HEX.test(header)) return false;
  const given = Buffer.from(header, 'hex');
  const firstOfBatch = firstBatchElement(parsedBody);
  if (Array.isArray(parsedBody) && firstOfBatch !== undefined) return same(given, secret, JSON.stringify(firstOfBatch));
  if (same(given, secret, rawBody)) return true;
  return firstOfBatch !== undefined && same(given, secret, JSON.stringify(firstOfBatch));
}

function firstBatchElement(body: unknown): unknown {
  if (Array.isArray(body)) return (body as unknown[])[0];
  if (typeof body !== 'object' || body === null) return undefined;
  const batch = (body as { batch?: unknown }).batch;
  return Array.isArray(batch) ? (batch as unknown[])[0] : undefined;
}

function same(given: Buffer, secret: string, signed: string | Buffer): boolean {
  return timingSafeEqual(given, createHmac('sha1', secret).update(signed).digest());
}
