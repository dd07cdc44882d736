import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../../src/adapters/http/json-depth.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('jsonNestsDeeperThan', () => {
  it('finds nesting past the limit in arrays and objects alike', () => {
    expect(jsonNestsDeeperThan(bytes('['.repeat(65) + ']'.repeat(65)))).toBe(true);
    expect(jsonNestsDeeperThan(bytes('{"a":'.repeat(65) + '1' + '}'.repeat(65)))).toBe(true);
    expect(jsonNestsDeeperThan(bytes('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)))).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ note: '['.repeat(500), tricky: 'a \\" [[[[', list: [[1], { b: [2] }] });
    expect(jsonNestsDeeperThan(bytes(text), 4)).toBe(false);
    expect(jsonNestsDeeperThan(bytes(text), 3)).toBe(true);
  });

  it('reads an 8 MB hostile array without recursion (no stack to exhaust)', () => {
    const hostile = Buffer.alloc(8 * 1024 * 1024, '[');
    expect(jsonNestsDeeperThan(hostile)).toBe(true);
  });
});
