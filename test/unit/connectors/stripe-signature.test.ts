import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  checkStripeSignatureHeader,
  parseStripeSignature,
  stripeSignatureMatches,
} from '../../../src/connectors/stripe/stripe-signature.js';
import { decideStripeWebhook } from '../../../src/connectors/stripe/stripe-webhook.js';
import { basilSubscriptionCreated } from '../../fixtures/stripe-events.js';

const SECRET = 'whsec_test_bytes';
// The wall clock: stripe-node, which the connector once used, held signatures to it whatever `receivedAt` said.
const NOW_S = Math.floor(Date.now() / 1000);

/** `Stripe-Signature` over the exact bytes, as Stripe computes it. */
function signBytes(bytes: Buffer, timestamp = NOW_S, secret = SECRET): string {
  const digest = createHmac('sha256', secret)
    .update(`${String(timestamp)}.`)
    .update(bytes)
    .digest('hex');
  return `t=${String(timestamp)},v1=${digest}`;
}

/** A valid subscription event whose description holds `bytes` (not valid UTF-8 in the cases below). */
function eventWith(bytes: number[]): Buffer {
  const event = basilSubscriptionCreated({
    id: 'evt_bytes',
    customer: 'cus_B',
    created: NOW_S,
    quantity: 1,
    unitAmount: 100,
  });
  const [head, tail] = JSON.stringify({ ...event, description: '@@' }).split('@@');
  return Buffer.concat([Buffer.from(head ?? ''), Buffer.from(bytes), Buffer.from(tail ?? '')]);
}

describe('Stripe-Signature over the raw bytes (finding 4)', () => {
  it('does not verify bytes C0 80 with a signature made over FF FE as text (both decode to the same text)', () => {
    const signedBody = eventWith([0xff, 0xfe]);
    const sentBody = eventWith([0xc0, 0x80]);
    expect(sentBody.toString('utf8')).toBe(signedBody.toString('utf8'));
    // What a verifier over decoded text compares against: the SDK signing the FF FE body once decoded.
    const overText = Stripe.webhooks.generateTestHeaderString({
      payload: signedBody.toString('utf8'),
      secret: SECRET,
      timestamp: NOW_S,
    });
    for (const body of [sentBody, signedBody]) {
      expect(decideStripeWebhook(body, overText, [SECRET], NOW_S * 1000)).toMatchObject({
        action: 'reject',
        status: 400,
        result: 'rejected_signature',
        code: 'invalid_signature',
      });
    }
    // Signed over its own bytes it verifies, and is then refused for not being UTF-8: nothing lossy is published.
    expect(decideStripeWebhook(sentBody, signBytes(sentBody), [SECRET], NOW_S * 1000)).toMatchObject({
      action: 'reject',
      result: 'invalid',
      code: 'invalid_json',
    });
    expect(decideStripeWebhook(sentBody, signBytes(signedBody), [SECRET], NOW_S * 1000)).toMatchObject({
      code: 'invalid_signature',
    });
  });

  it('agrees with the stripe SDK on a valid body, with any of the v1 signatures and any secret', () => {
    const payload = JSON.stringify(
      basilSubscriptionCreated({ id: 'evt_sdk', customer: 'cus_S', created: NOW_S, quantity: 1, unitAmount: 100 }),
    );
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: NOW_S });
    const parsed = parseStripeSignature(`${header},v1=${'0'.repeat(64)},v0=ignored`);
    expect(parsed?.signatures).toHaveLength(2);
    expect(stripeSignatureMatches(parsed!, Buffer.from(payload), ['whsec_rolled', SECRET])).toBe(true);
    expect(stripeSignatureMatches(parsed!, Buffer.from(payload), ['whsec_rolled'])).toBe(false);
    expect(decideStripeWebhook(Buffer.from(payload), header, [SECRET], NOW_S * 1000).action).toBe('publish');
  });

  it('refuses a missing, malformed or stale header before the body is read; a future timestamp passes', () => {
    expect(checkStripeSignatureHeader(undefined, NOW_S)).toMatchObject({ ok: false, code: 'missing_signature' });
    expect(checkStripeSignatureHeader(`t=${String(NOW_S)}`, NOW_S)).toMatchObject({ code: 'malformed_signature' });
    expect(checkStripeSignatureHeader(`v1=${'a'.repeat(64)}`, NOW_S)).toMatchObject({ code: 'malformed_signature' });
    expect(checkStripeSignatureHeader(`t=x,v1=${'a'.repeat(64)}`, NOW_S)).toMatchObject({
      code: 'malformed_signature',
    });
    const at = (t: number) => checkStripeSignatureHeader(`t=${String(t)},v1=${'a'.repeat(64)}`, NOW_S);
    expect(at(NOW_S - 301)).toMatchObject({ ok: false, code: 'stale_signature' });
    expect(at(NOW_S - 300).ok).toBe(true);
    expect(at(NOW_S + 3_600).ok).toBe(true);
  });

  it('names the field of an invalid signed event, not its value', () => {
    const text = JSON.stringify({
      id: 'evt_pii',
      object: 'event',
      type: 'customer.subscription.updated',
      created: NOW_S,
      data: { object: { id: 'Carol Private 4111111111111111 carol.pii@example.com' } },
    });
    const decision = decideStripeWebhook(Buffer.from(text), signBytes(Buffer.from(text)), [SECRET], NOW_S * 1000);
    expect(decision).toMatchObject({ action: 'reject', result: 'invalid', code: 'invalid_event' });
    expect(JSON.stringify(decision)).not.toMatch(/Carol|4111|carol\.pii/);
    expect(decision.action === 'reject' ? decision.reason : '').toMatch(/^data\.object\.[\w.]+: does not match/);
  });
});
