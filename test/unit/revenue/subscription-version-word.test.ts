import { describe, expect, it } from 'vitest';
import {
  MAX_BODY_OFFSET,
  versionAt,
  versionBodyOffset,
  versionIsDeletion,
  versionOrder,
  versionWord,
  type SubscriptionHistory,
} from '../../../src/domain/revenue/customer-state.js';

const RANK_UNIT = 2 ** 32;

function historyOf(at: number, order: number, body: number): SubscriptionHistory {
  return { id: 'sub_1', words: [1, at, versionWord(order, body)], refs: [], next: null };
}

describe('a subscription version packed in two words', () => {
  it('gives back its order and body offset exactly at the extremes', () => {
    const largestOrder = 2 * RANK_UNIT + (RANK_UNIT - 1);
    const cases: [number, number][] = [
      [0, 0],
      [largestOrder, MAX_BODY_OFFSET - 1],
      [RANK_UNIT + 0x9e3779b9, 1_234],
      [2 * RANK_UNIT, 0],
    ];
    for (const [order, body] of cases) {
      const history = historyOf(1_767_225_600_000, order, body);
      expect(Number.isSafeInteger(history.words[2])).toBe(true);
      expect(versionOrder(history, 0)).toBe(order);
      expect(versionBodyOffset(history, 0)).toBe(body);
      expect(versionAt(history, 0)).toBe(1_767_225_600_000);
    }
    expect(versionIsDeletion(historyOf(0, 2 * RANK_UNIT, 5), 0)).toBe(true);
    expect(versionIsDeletion(historyOf(0, RANK_UNIT + RANK_UNIT - 1, MAX_BODY_OFFSET - 1), 0)).toBe(false);
  });

  it('refuses a body offset that would not fit beside the order', () => {
    expect(() => versionWord(0, MAX_BODY_OFFSET)).toThrow(RangeError);
  });
});
