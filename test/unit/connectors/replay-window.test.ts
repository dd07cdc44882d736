import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../../../src/connectors/segment/replay-window.js';

describe('ReplayWindow', () => {
  it('recognises a key accepted within the window, and forgets it after', () => {
    const window = new ReplayWindow(60_000, 100);
    window.remember(['sig-1'], 1_000);
    expect(window.has('sig-1', 30_000)).toBe(true);
    expect(window.has('sig-2', 30_000)).toBe(false);
    expect(window.has('sig-1', 61_001)).toBe(false);
    expect(window.size).toBe(0);
  });

  it('keeps at most its capacity, dropping the oldest first', () => {
    const window = new ReplayWindow(60_000, 2);
    window.remember(['a', 'b', 'c'], 0);
    expect([window.has('a', 1), window.has('b', 1), window.has('c', 1)]).toEqual([false, true, true]);
  });

  it('a key accepted again moves to the back of the queue', () => {
    const window = new ReplayWindow(60_000, 2);
    window.remember(['a', 'b'], 0);
    window.remember(['a'], 10);
    window.remember(['c'], 20);
    expect([window.has('a', 30), window.has('b', 30), window.has('c', 30)]).toEqual([true, false, true]);
  });
});
