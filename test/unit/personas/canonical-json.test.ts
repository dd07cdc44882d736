import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../src/domain/personas/canonical-json.js';

describe('canonical JSON and content hash', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('hashes equal content equally whatever the key order', () => {
    const a = contentHash({ name: 'Smb Customer', type: 'B2B', goals: ['x', 'y'] });
    const b = contentHash({ goals: ['x', 'y'], type: 'B2B', name: 'Smb Customer' });
    expect(a).toBe(b);
    // sha256 of {"goals":["x","y"],"name":"Smb Customer","type":"B2B"}, from Python's hashlib.
    expect(a).toBe('7daa524380792644b21f4efc2ba8f470660d1c7a34e9f1c11e1e8f65f0aa8c5b');
    expect(contentHash({ goals: ['y', 'x'], type: 'B2B', name: 'Smb Customer' })).not.toBe(a);
  });

  it('is the sha256 of the canonical text', () => {
    // sha256('{"a":1}')
    expect(contentHash({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });
});
