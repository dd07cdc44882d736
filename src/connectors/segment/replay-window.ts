/**
 * Keys (a delivery's signature, a message's messageId) remembered for `windowMs` after they were accepted, at most
 * `capacity` of them (the oldest go first), so a captured delivery sent again is recognised. Only what was written
 * is remembered: a delivery answered 5xx must still be accepted when the sender retries it.
 */
export class ReplayWindow {
  /** Key → when it was accepted; a Map keeps insertion order, so the oldest is always first. */
  private readonly acceptedAt = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
  ) {
    if (!(windowMs > 0) || !Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError('a replay window needs a positive duration and capacity');
    }
  }

  /** Whether `key` was accepted within the window before `now`. */
  has(key: string, now: number): boolean {
    this.forgetBefore(now - this.windowMs);
    const at = this.acceptedAt.get(key);
    return at !== undefined && at > now - this.windowMs;
  }

  /** Remembers keys as accepted at `now`. */
  remember(keys: Iterable<string>, now: number): void {
    for (const key of keys) {
      this.acceptedAt.delete(key);
      this.acceptedAt.set(key, now);
    }
    while (this.acceptedAt.size > this.capacity) {
      const oldest = this.acceptedAt.keys().next();
      if (oldest.done === true) break;
      this.acceptedAt.delete(oldest.value);
    }
  }

  get size(): number {
    return this.acceptedAt.size;
  }

  private forgetBefore(cutoff: number): void {
    for (const [key, at] of this.acceptedAt) {
      if (at > cutoff) return;
      this.acceptedAt.delete(key);
    }
  }
}
