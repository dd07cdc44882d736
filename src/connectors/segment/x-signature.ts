import { createHmac, timingSafeEqual } from 'node:crypto';

const SHA1_HEX = /^[0-9A-Fa-f]{40}$/;

/** `X-Signature` as Segment computes it: hex HMAC-SHA1 of the UTF-8 text with the destination's shared secret. */
export function segmentSignature(secret: string, text: string | Buffer): string {
  return createHmac('sha1', secret).update(text).digest('hex');
}

/** Whether a header can be an `X-Signature` at all (40 hex digits): checked before anything is read. */
export function isSignatureShaped(header: string | undefined): header is string {
  return header !== undefined && SHA1_HEX.test(header);
}

/**
 * Whether `X-Signature` is Segment's HMAC over these exact bytes, with any of the secrets: how an unbatched delivery
 * is signed (reference/segment.md §2.3), covering all of it. Needs nothing parsed.
 */
export function signsBytes(header: string, secrets: readonly string[], bytes: Uint8Array): boolean {
  return matchesAny(header, secrets, bytes);
}

/**
 * Whether `X-Signature` is Segment's HMAC over `JSON.stringify(first)`: how a batched (JSON array) delivery is signed,
 * over its first element only. It proves that element came from Segment and says nothing of the others.
 */
export function signsFirstElement(header: string, secrets: readonly string[], first: unknown): boolean {
  return matchesAny(header, secrets, Buffer.from(JSON.stringify(first), 'utf8'));
}

function matchesAny(header: string, secrets: readonly string[], signed: Uint8Array): boolean {
  if (!SHA1_HEX.test(header)) return false;
  const given = Buffer.from(header, 'hex');
  let matched = false;
  for (const secret of secrets) {
    matched = timingSafeEqual(given, createHmac('sha1', secret).update(signed).digest()) || matched;
  }
  return matched;
}
