import { describe, expect, it } from 'vitest';
import { decodeRawInput } from '../../../src/sources/raw-input.js';
import { stripeCanonicalEvent } from '../../../src/sources/canonical-events.js';
import { parseStripeEvent } from '../../../src/sources/stripe/index.js';
import { fixture } from './fixtures.js';

const RECEIVED = Date.UTC(2026, 2, 16, 12);
const HOUR = 3_600_000;

function createdAt(seconds: number): Record<string, unknown> {
  return { ...fixture('basil-subscription-updated.json'), created: seconds };
}

describe('Stripe event time at the edge', () => {
  it('refuses an event created beyond receipt plus the skew, naming the field and the rule but not the value', () => {
    const result = stripeCanonicalEvent(JSON.stringify(createdAt(253402300799)), RECEIVED);
    expect(result.ok).toBe(false);
    const [error] = result.ok ? [] : result.errors;
    expect(error?.code).toBe('event_time');
    expect(error?.message).toMatch(/^created may be at most 24 h after the event was received \(event evt_/);
    expect(error?.message).not.toMatch(/9999|253402300799/);
    expect(decodeRawInput(createdAt(253402300799), RECEIVED).errors).toHaveLength(1);
  });

  it('accepts one within the skew, and the skew is configurable', () => {
    const soon = JSON.stringify(createdAt((RECEIVED + 23 * HOUR) / 1_000));
    expect(stripeCanonicalEvent(soon, RECEIVED).ok).toBe(true);
    expect(stripeCanonicalEvent(soon, RECEIVED, HOUR).ok).toBe(false);
  });

  it('refuses, wherever it is parsed, a created before the epoch or past what a date can hold', () => {
    for (const seconds of [-1, 1e15]) {
      const result = parseStripeEvent(createdAt(seconds));
      expect(result.ok, String(seconds)).toBe(false);
      expect(!result.ok && result.error.path).toBe('created');
    }
    expect(parseStripeEvent(createdAt(0)).ok).toBe(true);
  });
});
