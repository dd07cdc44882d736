import { parseJsonBody, JsonBodyError } from '../json-body.js';
import type { SecretSet } from '../secret-set.js';
import { batchGate, ENABLE_BATCHES_HINT } from './batch-token.js';
import { rejection, type SegmentRejection } from './segment-decision.js';
import { isSignatureShaped, signsBytes, signsFirstElement } from './x-signature.js';

export interface WebhookCredentials {
  /** The X-Signature header. */
  readonly signature: string | undefined;
  /** The X-Persona-Stream-Token header. */
  readonly batchToken: string | undefined;
}

export interface WebhookAuthenticationPolicy {
  /**
   * SEGMENT_SHARED_SECRET: a delivery signed with any of them is accepted (two while the secret is being rotated:
   * Segment does not retry a 401, so a delivery refused for an outdated secret would be lost). Empty refuses every
   * delivery, since none can be verified.
   */
  readonly sharedSecrets: readonly string[];
  /** SEGMENT_WEBHOOK_BATCH_TOKEN: the second gate batched deliveries need; empty → batches are refused. */
  readonly batchTokens: SecretSet;
  /** What is read of a delivery before its signature is verified. */
  readonly maxUnverifiedBytes: number;
  /** What is read of a delivery that carries the batch token. */
  readonly maxBatchBytes: number;
}

/**
 * From the headers alone, before a byte of the body is read: refuse, or read at most `limitBytes`; `batches` when the
 * batch token came, `signature` the well-formed X-Signature to verify the body with.
 */
export type WebhookAdmission =
  | SegmentRejection
  | { readonly action: 'read'; readonly limitBytes: number; readonly batches: boolean; readonly signature: string };

export function admitWebhookDelivery(
  credentials: WebhookCredentials,
  policy: WebhookAuthenticationPolicy,
): WebhookAdmission {
  if (policy.sharedSecrets.length === 0) {
    return rejection(
      401,
      'rejected_signature',
      'invalid_signature',
      'SEGMENT_SHARED_SECRET is not set: no delivery can be verified, so none is accepted',
    );
  }
  const signature = credentials.signature;
  if (signature === undefined || signature === '') {
    return rejection(401, 'rejected_signature', 'missing_signature', 'missing X-Signature header');
  }
  if (!isSignatureShaped(signature)) {
    return rejection(401, 'rejected_signature', 'invalid_signature', 'X-Signature is not a hex HMAC-SHA1');
  }
  const gate = batchGate(credentials.batchToken, policy.batchTokens);
  if (gate === 'refused') {
    return rejection(401, 'rejected_signature', 'invalid_batch_token', 'X-Persona-Stream-Token is not accepted');
  }
  const batches = gate === 'granted';
  const limitBytes = batches ? policy.maxBatchBytes : policy.maxUnverifiedBytes;
  return { action: 'read', limitBytes, batches, signature };
}

/**
 * A delivery's body once it is authenticated, parsed; `signedWhole` when X-Signature covers every byte of it (an
 * unbatched delivery) rather than the first element of a batch.
 */
export type VerifiedDelivery =
  SegmentRejection | { readonly action: 'verified'; readonly body: unknown; readonly signedWhole: boolean };

/**
 * Authenticates a delivery's body (reference/segment.md §2.3), parsing nothing before it is: an unbatched delivery
 * (one message, or `{"batch":[…]}`) must be signed over its raw bytes, which is checked first. A batched delivery (a
 * JSON array) is signed over its first element only, so the rest of it would be unauthenticated: it is taken only
 * with the batch token (`batches`), which authenticates the sender before its body is parsed to check that element.
 */
export function verifyWebhookBody(
  raw: Buffer,
  signature: string,
  batches: boolean,
  sharedSecrets: readonly string[],
): VerifiedDelivery {
  if (startsAnArray(raw)) {
    if (!batches) {
      return rejection(
        403,
        'batch_disabled',
        'batch_not_enabled',
        `a batched (JSON array) delivery is refused: ${ENABLE_BATCHES_HINT}`,
      );
    }
    const body = parseJsonBody(raw);
    if (body instanceof JsonBodyError) return rejection(400, 'invalid', body.code, body.message);
    const items = body as unknown[];
    const signed =
      items.length === 0
        ? signsBytes(signature, sharedSecrets, raw)
        : signsFirstElement(signature, sharedSecrets, items[0]);
    if (!signed) return mismatch();
    return { action: 'verified', body, signedWhole: false };
  }
  if (!signsBytes(signature, sharedSecrets, raw)) return mismatch();
  const body = parseJsonBody(raw);
  if (body instanceof JsonBodyError) return rejection(400, 'invalid', body.code, body.message);
  return { action: 'verified', body, signedWhole: true };
}

function mismatch(): SegmentRejection {
  return rejection(401, 'rejected_signature', 'invalid_signature', 'X-Signature does not match the body');
}

const BOM = [0xef, 0xbb, 0xbf] as const;

/** Whether the first byte past a BOM and JSON whitespace is `[`: a batch, told apart without parsing. */
function startsAnArray(raw: Uint8Array): boolean {
  let i = raw[0] === BOM[0] && raw[1] === BOM[1] && raw[2] === BOM[2] ? 3 : 0;
  while (i < raw.length && (raw[i] === 0x20 || raw[i] === 0x09 || raw[i] === 0x0a || raw[i] === 0x0d)) i += 1;
  return raw[i] === 0x5b;
}
