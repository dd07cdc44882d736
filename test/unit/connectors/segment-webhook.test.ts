import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SecretSet } from '../../../src/connectors/secret-set.js';
import { SEGMENT_LIMITS } from '../../../src/connectors/segment/segment-limits.js';
import {
  admitWebhookDelivery,
  verifyWebhookBody,
  type VerifiedDelivery,
} from '../../../src/connectors/segment/webhook-authentication.js';
import { decideWebhookDelivery } from '../../../src/connectors/segment/webhook-delivery.js';
import {
  isSignatureShaped,
  segmentSignature,
  signsBytes,
  signsFirstElement,
} from '../../../src/connectors/segment/x-signature.js';

// Reference fixture F5 (reference/segment.md §6): the secret, the one-line body and the header Segment sends.
const SECRET = 'whsec_test_segment_fixture';
const F5_SIGNATURE = '3decb09a91c54970e1c9f3df9e34b7566aabd75b';
const f5Body = readFileSync(new URL('../../fixtures/segment/f5-webhook-actions-track.body', import.meta.url));
const f5Batched = readFileSync(
  new URL('../../fixtures/segment-connector/f5-webhook-actions-batched.body', import.meta.url),
);
const RECEIVED = Date.parse('2025-03-14T10:00:05.000Z');
const BATCH_TOKEN = 'batch-token-1';
const authentication = {
  sharedSecrets: [SECRET],
  batchTokens: new SecretSet([BATCH_TOKEN]),
  maxUnverifiedBytes: SEGMENT_LIMITS.maxWebhookEventBytes,
  maxBatchBytes: SEGMENT_LIMITS.maxWebhookBodyBytes,
};
const deliveryPolicy = {
  maxEventBytes: SEGMENT_LIMITS.maxWebhookEventBytes,
  maxEvents: SEGMENT_LIMITS.maxWebhookBatchEvents,
};

const sign = (body: string | Buffer, secret = SECRET) => createHmac('sha1', secret).update(body).digest('hex');
const bytes = (body: string | Buffer) => (Buffer.isBuffer(body) ? body : Buffer.from(body));
const verify = (body: string | Buffer, signature: string, batches = false, secrets = [SECRET]) =>
  verifyWebhookBody(bytes(body), signature, batches, secrets);

/** Authenticates and decides, as the route does before publishing. */
function deliver(body: string | Buffer, signature: string, batches = false) {
  const verified = verify(body, signature, batches);
  if (verified.action === 'reject') return verified;
  return decideWebhookDelivery(verified.body, RECEIVED, deliveryPolicy);
}

function verifiedBody(verified: VerifiedDelivery): unknown {
  if (verified.action !== 'verified') throw new Error(`expected verified, got ${JSON.stringify(verified)}`);
  return verified.body;
}

describe('X-Signature', () => {
  it('is the hex HMAC-SHA1 of the raw body: reference fixture F5', () => {
    expect(f5Body.length).toBe(609);
    expect(segmentSignature(SECRET, f5Body)).toBe(F5_SIGNATURE);
    expect(signsBytes(F5_SIGNATURE, [SECRET], f5Body)).toBe(true);
    expect(signsBytes(F5_SIGNATURE.toUpperCase(), [SECRET], f5Body)).toBe(true);
  });

  it('covers only the first element of an Actions batch: F5 batched carries the same header', () => {
    const [first] = JSON.parse(f5Batched.toString()) as unknown[];
    expect(signsFirstElement(F5_SIGNATURE, [SECRET], first)).toBe(true);
    // An HMAC over the whole array is not what Segment sends (reference: e45bcecd…).
    const wholeArray = sign(f5Batched);
    expect(wholeArray.startsWith('e45bcecd')).toBe(true);
    expect(signsFirstElement(wholeArray, [SECRET], first)).toBe(false);
  });

  it('refuses another secret, a truncated or non-hex header and a prefixed one', () => {
    expect(signsBytes(sign(f5Body, 'whsec_other'), [SECRET], f5Body)).toBe(false);
    expect(isSignatureShaped(F5_SIGNATURE.slice(0, 39))).toBe(false);
    expect(isSignatureShaped(`${F5_SIGNATURE.slice(0, 39)}g`)).toBe(false);
    expect(isSignatureShaped(`sha1=${F5_SIGNATURE}`)).toBe(false);
    expect(signsBytes(`sha1=${F5_SIGNATURE}`, [SECRET], f5Body)).toBe(false);
  });
});

describe('admitWebhookDelivery: from the headers, before the body is read', () => {
  it('refuses unconfigured, unsigned and malformed signatures with 401', () => {
    const admit = (signature: string | undefined, secrets: readonly string[] = [SECRET]) =>
      admitWebhookDelivery({ signature, batchToken: undefined }, { ...authentication, sharedSecrets: secrets });
    expect(admit(F5_SIGNATURE, [])).toEqual({
      action: 'reject',
      status: 401,
      result: 'rejected_signature',
      body: {
        success: false,
        code: 'invalid_signature',
        message: 'SEGMENT_SHARED_SECRET is not set: no delivery can be verified, so none is accepted',
      },
    });
    expect(admit(undefined)).toMatchObject({ status: 401, body: { code: 'missing_signature' } });
    expect(admit('not-hex')).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
  });

  it('reads at most one event before verifying, unless the batch token came; a wrong token is a 401', () => {
    const admit = (batchToken: string | undefined) =>
      admitWebhookDelivery({ signature: F5_SIGNATURE, batchToken }, authentication);
    const signature = F5_SIGNATURE;
    expect(admit(undefined)).toEqual({ action: 'read', limitBytes: 64 * 1024, batches: false, signature });
    expect(admit(BATCH_TOKEN)).toEqual({ action: 'read', limitBytes: 8 * 1024 * 1024, batches: true, signature });
    expect(admit('batch-token-2')).toMatchObject({
      status: 401,
      result: 'rejected_signature',
      body: { code: 'invalid_batch_token' },
    });
    // No token configured: a token sent is ignored, and batches stay off.
    const off = admitWebhookDelivery(
      { signature: F5_SIGNATURE, batchToken: BATCH_TOKEN },
      { ...authentication, batchTokens: new SecretSet([]) },
    );
    expect(off).toEqual({ action: 'read', limitBytes: 64 * 1024, batches: false, signature: F5_SIGNATURE });
  });
});

describe('verifyWebhookBody', () => {
  it('verifies an unbatched delivery over its raw bytes before parsing it', () => {
    expect(verify(f5Body, F5_SIGNATURE)).toMatchObject({ action: 'verified', signedWhole: true });
    const tampered = Buffer.from(f5Body.toString().replace('Growth', 'Enterprise'));
    expect(verify(tampered, F5_SIGNATURE)).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    // Signed with a retired secret during a rotation: refused; with either configured one: verified.
    expect(verify(f5Body, sign(f5Body, 'new-secret'), false, ['new-secret', SECRET]).action).toBe('verified');
    expect(verify(f5Body, sign(f5Body, 'retired'), false, ['new-secret', SECRET]).action).toBe('reject');
  });

  it('refuses a hostile nested body without parsing it: 401 unsigned, 400 too deep once signed (finding 1)', () => {
    const nested = Buffer.from(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`);
    expect(verify(nested, 'e'.repeat(40))).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    expect(verify(nested, sign(nested))).toMatchObject({
      status: 400,
      result: 'invalid',
      body: { code: 'too_deep', message: 'the body nests arrays or objects deeper than 64 levels' },
    });
    const array = Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(verify(array, 'e'.repeat(40))).toMatchObject({ status: 403, body: { code: 'batch_not_enabled' } });
    expect(verify(array, 'e'.repeat(40), true)).toMatchObject({ status: 400, body: { code: 'too_deep' } });
  });

  it('refuses a batch (JSON array) without the batch token, saying how to enable batches (finding 2)', () => {
    const captured = JSON.parse(f5Body.toString()) as unknown;
    const forged = [captured, { type: 'track', event: 'Order Completed', userId: 'u_7f3a91', messageId: 'forged-1' }];
    const refused = verify(JSON.stringify(forged), F5_SIGNATURE);
    expect(refused).toMatchObject({ action: 'reject', status: 403, result: 'batch_disabled' });
    if (refused.action !== 'reject') return;
    expect(refused.body.message).toContain('SEGMENT_WEBHOOK_BATCH_TOKEN');
    expect(refused.body.message).toContain('X-Persona-Stream-Token');
    // Leading whitespace or a BOM does not hide an array.
    expect(
      verify(
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(` \n${JSON.stringify(forged)}`)]),
        F5_SIGNATURE,
      ),
    ).toMatchObject({ status: 403 });
  });

  it('takes a batch with the token when its first element is signed (Actions batching)', () => {
    const verified = verify(f5Batched, F5_SIGNATURE, true);
    expect(verified).toMatchObject({ action: 'verified', signedWhole: false });
    expect(verifiedBody(verified)).toHaveLength(2);
    // The token does not stand in for the signature.
    expect(verify(f5Batched, 'e'.repeat(40), true)).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
  });

  it('accepts {"batch":[…]} only signed over its raw bytes, not over its first message (finding 2)', () => {
    const captured = JSON.parse(f5Body.toString()) as unknown;
    const envelope = JSON.stringify({ batch: [captured, { type: 'identify', userId: 'u_x', messageId: 'forged-2' }] });
    expect(verify(envelope, F5_SIGNATURE)).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    expect(verify(envelope, F5_SIGNATURE, true)).toMatchObject({ status: 401 });
    expect(verify(envelope, sign(envelope))).toMatchObject({ action: 'verified', signedWhole: true });
  });

  it('answers 400 to a correctly signed body that is not JSON, naming no part of it', () => {
    const text = '{"name":"Carol Private 4111111111111111 carol.pii@example.com",';
    expect(verify(text, sign(text))).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: { success: false, code: 'invalid_json', message: 'the body is not valid JSON (UTF-8)' },
    });
  });
});

describe('decideWebhookDelivery', () => {
  it('publishes F5 as one canonical event keyed by userId, timed by the timestamp Segment already corrected', () => {
    const decision = deliver(f5Body, F5_SIGNATURE);
    expect(decision.action).toBe('publish');
    if (decision.action !== 'publish') return;
    expect(decision.body).toEqual({ success: true });
    expect(decision.events.map(({ payload: _payload, ...envelope }) => envelope)).toEqual([
      {
        event_id: 'node-next-1741946401120-2c9e5b7a-41d8-4f0e-b3a6-8e1f0d2c4b59',
        source: 'segment',
        type: 'track',
        entity_key: 'u_7f3a91',
        occurred_at: Date.parse('2025-03-14T10:00:01.230Z'),
        received_at: Date.parse('2025-03-14T10:00:01.410Z'),
        schema_version: 1,
      },
    ]);
    expect(JSON.parse(decision.events[0]!.payload)).toMatchObject({
      event: 'Trial Started',
      properties: { trial_plan_name: 'Growth' },
      context: { groupId: 'acct_5521' },
    });
  });

  it('publishes both messages of the batched F5 delivery, the second stamped with our arrival time', () => {
    const decision = deliver(f5Batched, F5_SIGNATURE, true);
    if (decision.action !== 'publish') throw new Error(`expected publish, got ${decision.action}`);
    expect(decision.events.map((event) => [event.event_id, event.type, event.entity_key, event.occurred_at])).toEqual([
      [
        'node-next-1741946401120-2c9e5b7a-41d8-4f0e-b3a6-8e1f0d2c4b59',
        'track',
        'u_7f3a91',
        Date.parse('2025-03-14T10:00:01.230Z'),
      ],
      ['api-x', 'identify', 'u_7f3a91', RECEIVED],
    ]);
  });

  it('refuses a body that is no message, array or batch with 400', () => {
    expect(deliver('"hello"', sign('"hello"'))).toEqual({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: {
        success: false,
        code: 'invalid_payload',
        message: 'expected a Segment message, an array or {"batch":[…]}',
      },
    });
  });

  it('holds a delivery to the most items a Webhooks (Actions) batch may have: 4,000 (finding 2)', () => {
    const item = (i: number) => ({ type: 'track', event: 'A', userId: 'u1', messageId: `m-${String(i)}` });
    const items = Array.from({ length: 4_001 }, (_, i) => item(i));
    expect(decideWebhookDelivery(items, RECEIVED, deliveryPolicy)).toEqual({
      action: 'reject',
      status: 400,
      result: 'too_large',
      body: {
        success: false,
        code: 'too_many_events',
        message: 'the delivery holds 4001 messages; one may hold at most 4000',
      },
    });
    const full = decideWebhookDelivery(items.slice(0, 4_000), RECEIVED, deliveryPolicy);
    expect(full.action === 'publish' ? full.events.length : full.action).toBe(4_000);
    expect(decideWebhookDelivery({ batch: items }, RECEIVED, deliveryPolicy)).toMatchObject({ status: 400 });
  });

  it('acknowledges deletion requests without publishing them, alone or inside a batch', () => {
    const deletion = JSON.stringify({ type: 'delete', userId: 'u_gone', messageId: 'del-1' });
    expect(deliver(deletion, sign(deletion))).toEqual({
      action: 'ignore',
      reason: '1 deletion request(s) acknowledged, not used',
      body: { success: true, ignored: true },
    });
    const mixed = [JSON.parse(deletion) as unknown, { type: 'track', event: 'A', userId: 'u1', messageId: 'm-a' }];
    const decision = deliver(JSON.stringify(mixed), sign(JSON.stringify(mixed[0])), true);
    if (decision.action !== 'publish') throw new Error(`expected publish, got ${decision.action}`);
    expect(decision.body).toEqual({ success: true });
    expect(decision.events.map((event) => event.event_id)).toEqual(['m-a']);
  });

  it('never publishes a writeKey that came with a message', () => {
    const body = JSON.stringify({ type: 'track', event: 'A', userId: 'u1', messageId: 'm-wk', writeKey: 'wk_secret' });
    const decision = deliver(body, sign(body));
    if (decision.action !== 'publish') throw new Error(`expected publish, got ${decision.action}`);
    expect(decision.events[0]!.payload).not.toContain('writeKey');
  });

  it('refuses a message over the webhook event limit with 400, naming it by position only', () => {
    const big = {
      type: 'track',
      event: 'A',
      userId: 'u1',
      messageId: 'm-big',
      properties: { pad: 'x'.repeat(70_000) },
    };
    const message = 'batch[1] is 70086 bytes; an event may be at most 65536 bytes';
    expect(decideWebhookDelivery([{ type: 'track', event: 'B', userId: 'u1' }, big], RECEIVED, deliveryPolicy)).toEqual(
      {
        action: 'reject',
        status: 400,
        result: 'too_large',
        body: {
          success: false,
          code: 'event_too_large',
          message,
          errors: [{ index: 1, code: 'event_too_large', field: '', message }],
        },
      },
    );
  });
});
