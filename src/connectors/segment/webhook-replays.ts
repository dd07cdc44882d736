import type { CanonicalEvent } from '../../records/canonical-event.js';
import { ReplayWindow } from './replay-window.js';

/**
 * How long, and how many keys, a replayed delivery is recognised for: a day, as Segment's own dedupe window (which
 * outlasts its 4 h of retries), bounded in memory. A replay past either bound is published again, and the processor
 * drops it by messageId within its own dedupe window.
 */
export const REPLAY_WINDOW_MS = 24 * 3_600_000;
export const REPLAY_WINDOW_KEYS = 250_000;

export type ReplayVerdict =
  /** Everything in it was published already: answer 200, publish nothing. */
  | { readonly kind: 'duplicate' }
  /** A copy of a delivery still being written: answer 503 so it is retried once the original settles. */
  | { readonly kind: 'in_flight' }
  /** Publish `events` (the new ones), then settle(`keys`). */
  | { readonly kind: 'fresh'; readonly events: readonly CanonicalEvent[]; readonly keys: readonly string[] };

/**
 * Recognises replayed Webhooks deliveries: by X-Signature when it covers the whole delivery (the same signature is the
 * same body), and by messageId for every message. Only what was published is remembered, so a retry of a delivery
 * answered 5xx still goes through. A batch is never recognised by its signature alone: it covers the first element,
 * and Segment may re-form a retried batch around it (reference/segment.md §2.2).
 */
export class WebhookReplays {
  private readonly window: ReplayWindow;
  /** Keys claimed by deliveries whose publication has not settled. */
  private readonly pending = new Set<string>();

  constructor(windowMs: number = REPLAY_WINDOW_MS, capacity: number = REPLAY_WINDOW_KEYS) {
    this.window = new ReplayWindow(windowMs, capacity);
  }

  /** Sorts a verified delivery's events; `fresh` claims their keys until settle() is called with them. */
  claim(wholeSignature: string | undefined, events: readonly CanonicalEvent[], now: number): ReplayVerdict {
    const signatureKey = wholeSignature === undefined ? undefined : `sig:${wholeSignature.toLowerCase()}`;
    if (signatureKey !== undefined && this.window.has(signatureKey, now)) return { kind: 'duplicate' };
    const seen = new Set<string>();
    const fresh = events.filter((event) => {
      const key = messageKey(event);
      if (seen.has(key) || this.window.has(key, now)) return false;
      seen.add(key);
      return true;
    });
    if (fresh.length === 0) return { kind: 'duplicate' };
    const keys = signatureKey === undefined ? [...seen] : [signatureKey, ...seen];
    if (keys.some((key) => this.pending.has(key))) return { kind: 'in_flight' };
    for (const key of keys) this.pending.add(key);
    return { kind: 'fresh', events: fresh, keys };
  }

  /** Releases claimed keys; remembers them when their events were published. */
  settle(keys: readonly string[], published: boolean, now: number): void {
    for (const key of keys) this.pending.delete(key);
    if (published) this.window.remember(keys, now);
  }
}

function messageKey(event: CanonicalEvent): string {
  return `msg:${event.event_id}`;
}
