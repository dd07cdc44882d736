import { createHmac, timingSafeEqual } from 'node:crypto';

/** Stripe's own default: a signed timestamp older than this is refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** A `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (v0 and other schemes are ignored). */
export interface StripeSignatureHeader {
  readonly timestamp: number;
  /** The v1 signatures, decoded: several while a secret is being rolled. */
  readonly signatures: readonly Buffer[];
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** The header's timestamp and v1 signatures; undefined when it lacks either (nothing could verify then). */
export function parseStripeSignature(header: string): StripeSignatureHeader | undefined {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const item of header.split(',')) {
    const equals = item.indexOf('=');
    if (equals === -1) continue;
    const key = item.slice(0, equals).trim();
    const value = item.slice(equals + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && SHA256_HEX.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

export type StripeHeaderVerdict =
  | { readonly ok: true; readonly header: StripeSignatureHeader }
  | {
      readonly ok: false;
      readonly code: 'missing_signature' | 'malformed_signature' | 'stale_signature';
      readonly reason: string;
    };

/**
 * What the header alone says, before a byte of the body is read: missing, malformed, or signed longer ago than the
 * tolerance (stripe-node's rule: a timestamp in the future passes; 0 disables the check).
 */
export function checkStripeSignatureHeader(
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds: number = SIGNATURE_TOLERANCE_SECONDS,
): StripeHeaderVerdict {
  if (header === undefined || header === '') {
    return { ok: false, code: 'missing_signature', reason: 'missing Stripe-Signature header' };
  }
  const parsed = parseStripeSignature(header);
  if (parsed === undefined) {
    return {
      ok: false,
      code: 'malformed_signature',
      reason: 'Stripe-Signature needs t=<unix seconds> and at least one v1=<hex HMAC-SHA256>',
    };
  }
  if (toleranceSeconds > 0 && nowSeconds - parsed.timestamp > toleranceSeconds) {
    return {
      ok: false,
      code: 'stale_signature',
      reason: `the Stripe-Signature timestamp is older than the ${String(toleranceSeconds)} s tolerance`,
    };
  }
  return { ok: true, header: parsed };
}

/**
 * Whether any v1 signature is the HMAC-SHA256, with any of the secrets, of `<t>.` followed by the body's raw bytes,
 * as Stripe signs (reference/stripe.md §2.4). Computed over bytes, never over decoded text: decoding would map
 * different invalid byte sequences to the same text, and a signature over one would verify the other.
 */
export function stripeSignatureMatches(
  header: StripeSignatureHeader,
  rawBody: Uint8Array,
  secrets: readonly string[],
): boolean {
  const prefix = Buffer.from(`${String(header.timestamp)}.`, 'utf8');
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(prefix).update(rawBody).digest();
    for (const given of header.signatures) matched = timingSafeEqual(given, expected) || matched;
  }
  return matched;
}
