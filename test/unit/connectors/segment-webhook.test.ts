import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideWebhookDelivery } from '../../../src/connectors/segment/webhook-delivery.js';
import { segmentSignature, webhookSignatureMatches } from '../../../src/connectors/segment/x-signature.js';
import { SEGMENT_LIMITS } from '../../../src/connectors/segment/segment-limits.js';

// Reference fixture F5 (reference/segment.md §6): the secret, the one-line body and the header Segment sends.
const SECRET = 'whsec_test_segment_fixture';
const F5_SIGNATURE = '3decb09a91c54970e1c9f3df9e34b7566aabd75b';
const f5Body = readFileSync(new URL('../../fixtures/segment/f5-webhook-actions-track.body', import.meta.url));
const f5Batched = readFileSync(
  new URL('../../fixtures/segment-connector/f5-webhook-actions-batched.body', import.meta.url),
);
const RECEIVED = Date.parse('2025-03-14T10:00:05.000Z');
const policy = { sharedSecrets: [SECRET], maxEventBytes: SEGMENT_LIMITS.maxWebhookEventBytes };

const sign = (body: string | Buffer, secret = SECRET) => createHmac('sha1', secret).update(body).digest('hex');
/** `sharedSecrets` empty: SEGMENT_SHARED_SECRET unset. */
const deliver = (body: string | Buffer, signature: string | undefined, sharedSecrets: readonly string[] = [SECRET]) =>
  decideWebhookDelivery(
    { body: Buffer.isBuffer(body) ? body : Buffer.from(body), signature, receivedAt: RECEIVED },
    { ...policy, sharedSecrets },
  );

describe('X-Signature', () => {
  it('is the hex HMAC-SHA1 of the raw body: reference fixture F5', () => {
    expect(f5Body.length).toBe(609);
    expect(segmentSignature(SECRET, f5Body)).toBe(F5_SIGNATURE);
    expect(webhookSignatureMatches(F5_SIGNATURE, SECRET, f5Body, JSON.parse(f5Body.toString()))).toBe(true);
    expect(webhookSignatureMatches(F5_SIGNATURE.toUpperCase(), SECRET, f5Body, undefined)).toBe(true);
  });

  it('covers only the first element of an Actions batch: F5 batched carries the same header', () => {
    const parsed: unknown = JSON.parse(f5Batched.toString());
    expect(webhookSignatureMatches(F5_SIGNATURE, SECRET, f5Batched, parsed)).toBe(true);
    // An HMAC over the whole array is not what Segment sends (reference: e45bcecd…), so it does not verify.
    const wholeArray = sign(f5Batched);
    expect(wholeArray.startsWith('e45bcecd')).toBe(true);
    expect(webhookSignatureMatches(wholeArray, SECRET, f5Batched, parsed)).toBe(false);
  });

  it('accepts a {"batch":[…]} body signed over the raw body or over its first message', () => {
    const first = { type: 'track', event: 'A', userId: 'u1', messageId: 'm1' };
    const raw = Buffer.from(JSON.stringify({ batch: [first, { type: 'track', event: 'B', userId: 'u2' }] }));
    const parsed: unknown = JSON.parse(raw.toString());
    expect(webhookSignatureMatches(sign(raw), SECRET, raw, parsed)).toBe(true);
    expect(webhookSignatureMatches(sign(JSON.stringify(first)), SECRET, raw, parsed)).toBe(true);
    expect(webhookSignatureMatches(sign('{}'), SECRET, raw, parsed)).toBe(false);
  });

  it('refuses another secret, a truncated or non-hex header and a prefixed one', () => {
    expect(webhookSignatureMatches(sign(f5Body, 'whsec_other'), SECRET, f5Body, undefined)).toBe(false);
    expect(webhookSignatureMatches(F5_SIGNATURE.slice(0, 39), SECRET, f5Body, undefined)).toBe(false);
    expect(webhookSignatureMatches(`${F5_SIGNATURE.slice(0, 39)}g`, SECRET, f5Body, undefined)).toBe(false);
    expect(webhookSignatureMatches(`sha1=${F5_SIGNATURE}`, SECRET, f5Body, undefined)).toBe(false);
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
    const decision = deliver(f5Batched, F5_SIGNATURE);
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

  it('refuses unsigned, mis-signed and unconfigured deliveries with 401 before reading them', () => {
    expect(deliver(f5Body, undefined)).toEqual({
      action: 'reject',
      status: 401,
      result: 'rejected_signature',
      body: { success: false, code: 'missing_signature', message: 'missing X-Signature header' },
    });
    expect(deliver(f5Body, sign(f5Body, 'whsec_other'))).toEqual({
      action: 'reject',
      status: 401,
      result: 'rejected_signature',
      body: { success: false, code: 'invalid_signature', message: 'X-Signature does not match the body' },
    });
    expect(deliver(f5Body, F5_SIGNATURE, [])).toEqual({
      action: 'reject',
      status: 401,
      result: 'rejected_signature',
      body: {
        success: false,
        code: 'invalid_signature',
        message: 'SEGMENT_SHARED_SECRET is not set: no delivery can be verified, so none is accepted',
      },
    });
    // Not JSON and not signed: a signature problem, not a parsing one.
    expect(deliver('{"type":', sign('other'))).toMatchObject({ status: 401, result: 'rejected_signature' });
  });

  it('accepts a delivery signed with any configured secret, so a rotation loses nothing (Segment does not retry a 401)', () => {
    const rotating = ['new-secret', SECRET];
    expect(deliver(f5Body, F5_SIGNATURE, rotating)).toMatchObject({ action: 'publish' });
    expect(deliver(f5Body, sign(f5Body, 'new-secret'), rotating)).toMatchObject({ action: 'publish' });
    expect(deliver(f5Body, sign(f5Body, 'retired-secret'), rotating)).toMatchObject({
      status: 401,
      result: 'rejected_signature',
    });
  });

  it('answers 400 to a correctly signed body that is not JSON or not a message', () => {
    expect(deliver('{"type":', sign('{"type":'))).toMatchObject({
      action: 'reject',
      status: 400,
      result: 'invalid',
      body: { success: false, code: 'invalid_json' },
    });
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

  it('acknowledges deletion requests without publishing them, alone or inside a batch', () => {
    const deletion = JSON.stringify({ type: 'delete', userId: 'u_gone', messageId: 'del-1' });
    expect(deliver(deletion, sign(deletion))).toEqual({
      action: 'ignore',
      reason: '1 deletion request(s) acknowledged, not used',
      body: { success: true, ignored: true },
    });
    const mixed = [JSON.parse(deletion) as unknown, { type: 'track', event: 'A', userId: 'u1', messageId: 'm-a' }];
    const decision = deliver(JSON.stringify(mixed), sign(JSON.stringify(mixed[0])));
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

  it('refuses a message over the webhook event limit with 400, naming it', () => {
    const big = {
      type: 'track',
      event: 'A',
      userId: 'u1',
      messageId: 'm-big',
      properties: { pad: 'x'.repeat(70_000) },
    };
    const body = JSON.stringify([{ type: 'track', event: 'B', userId: 'u1', messageId: 'm-ok' }, big]);
    const message = 'batch[1] (messageId "m-big") is 70086 bytes; an event may be at most 65536 bytes';
    expect(deliver(body, sign(JSON.stringify((JSON.parse(body) as unknown[])[0])))).toEqual({
      action: 'reject',
      status: 400,
      result: 'too_large',
      body: {
        success: false,
        code: 'event_too_large',
        message,
        errors: [{ index: 1, code: 'event_too_large', field: '', message }],
      },
    });
  });
});
