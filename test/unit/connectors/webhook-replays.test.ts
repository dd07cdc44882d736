import { describe, expect, it } from 'vitest';
import { WebhookReplays } from '../../../src/connectors/segment/webhook-replays.js';
import type { CanonicalEvent } from '../../../src/records/canonical-event.js';

const event = (id: string): CanonicalEvent => ({
  event_id: id,
  source: 'segment',
  type: 'track',
  entity_key: 'u1',
  occurred_at: 0,
  received_at: 0,
  payload: '{}',
  schema_version: 1,
});
const SIGNATURE = 'a'.repeat(40);

function claimFresh(replays: WebhookReplays, signature: string | undefined, ids: string[], now: number) {
  const claim = replays.claim(signature, ids.map(event), now);
  if (claim.kind !== 'fresh') throw new Error(`expected fresh, got ${claim.kind}`);
  return claim;
}

describe('WebhookReplays', () => {
  it('recognises a published delivery by its signature, and each of its messages by messageId', () => {
    const replays = new WebhookReplays(60_000, 100);
    const claim = claimFresh(replays, SIGNATURE, ['m1'], 0);
    replays.settle(claim.keys, true, 0);
    expect(replays.claim(SIGNATURE, [event('m1')], 1_000)).toEqual({ kind: 'duplicate' });
    // The same message under another (whole-body) signature: still a duplicate.
    expect(replays.claim('b'.repeat(40), [event('m1')], 1_000)).toEqual({ kind: 'duplicate' });
    // Past the window it is new again (the processor still dedupes it by messageId).
    expect(replays.claim(SIGNATURE, [event('m1')], 61_000).kind).toBe('fresh');
  });

  it('publishes only the new messages of a batch that repeats some, once each', () => {
    const replays = new WebhookReplays(60_000, 100);
    replays.settle(claimFresh(replays, undefined, ['m1', 'm2'], 0).keys, true, 0);
    const claim = claimFresh(replays, undefined, ['m1', 'm3', 'm3', 'm2', 'm4'], 10);
    expect(claim.events.map((e) => e.event_id)).toEqual(['m3', 'm4']);
  });

  it('forgets what was not published, so the retry of a delivery answered 503 goes through', () => {
    const replays = new WebhookReplays(60_000, 100);
    replays.settle(claimFresh(replays, SIGNATURE, ['m1'], 0).keys, false, 0);
    expect(replays.claim(SIGNATURE, [event('m1')], 10).kind).toBe('fresh');
  });

  it('tells a copy that arrives while the original is being written to come back (in flight)', () => {
    const replays = new WebhookReplays(60_000, 100);
    const first = claimFresh(replays, SIGNATURE, ['m1'], 0);
    expect(replays.claim(SIGNATURE, [event('m1')], 5)).toEqual({ kind: 'in_flight' });
    expect(replays.claim(undefined, [event('m0'), event('m1')], 5)).toEqual({ kind: 'in_flight' });
    replays.settle(first.keys, true, 10);
    expect(replays.claim(SIGNATURE, [event('m1')], 20)).toEqual({ kind: 'duplicate' });
  });
});
