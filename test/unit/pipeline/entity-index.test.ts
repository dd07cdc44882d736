import { describe, expect, it } from 'vitest';
import { EntityIndex, entityKeyHash } from '../../../src/domain/pipeline/entity-index.js';

interface Held {
  readonly key: string;
  readonly value: number;
}

const indexOfHeld = (): EntityIndex<Held> => new EntityIndex<Held>((held) => held.key);

describe('EntityIndex', () => {
  it('finds every key it was given, through many growths, and no other', () => {
    const index = indexOfHeld();
    const keys = Array.from({ length: 20_000 }, (_, n) => `cus_${n.toString(36).padStart(8, '0')}`);
    keys.forEach((key, value) => {
      index.add({ key, value });
    });
    expect(index.size).toBe(keys.length);
    keys.forEach((key, value) => {
      expect(index.get(key)?.value).toBe(value);
    });
    expect(index.get('cus_absent')).toBeUndefined();
    expect(index.get('')).toBeUndefined();
  });

  it('tells apart keys whose hashes collide', () => {
    const index = indexOfHeld();
    // Forced equal hashes: a lookup must compare the keys, not trust the hash.
    for (let value = 0; value < 50; value++) index.add({ key: `k${String(value)}`, value }, 42);
    for (let value = 0; value < 50; value++) expect(index.get(`k${String(value)}`, 42)?.value).toBe(value);
    expect(index.get('k50', 42)).toBeUndefined();
  });

  it('lists each state once, by key, and forgets them all on clear', () => {
    const index = indexOfHeld();
    for (let value = 0; value < 3_000; value++) index.add({ key: `user-${String(value)}`, value });
    expect([...index.values()]).toHaveLength(3_000);
    expect(new Set(index.keys()).size).toBe(3_000);
    for (const [key, held] of index) expect(held.key).toBe(key);
    index.clear();
    expect(index.size).toBe(0);
    expect([...index.values()]).toEqual([]);
    expect(index.get('user-1')).toBeUndefined();
  });

  it('hashes a key to a non-zero 32-bit integer that spreads similar ids over the low bits', () => {
    const buckets = new Set<number>();
    for (let n = 0; n < 4_096; n++) {
      const hash = entityKeyHash(`cus_00000000${n.toString(36)}`);
      expect(hash).not.toBe(0);
      expect(hash | 0).toBe(hash);
      buckets.add(hash & 4_095);
    }
    // Uniform hashing fills ~63% of 4096 buckets with 4096 keys; a weak mix of the last characters fills far fewer.
    expect(buckets.size).toBeGreaterThan(2_400);
  });
});
