import { describe, expect, it } from 'vitest';
import { fitPersonaName } from '../../../src/domain/personas/mavera-payload.js';
import {
  findShapeViolations,
  shapeForMavera,
  validatePersonaPayload,
} from '../../../src/domain/personas/mavera-shape.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('shapeForMavera', () => {
  it('returns a payload within the limits unchanged', () => {
    const payload = { name: 'Smb Customer', a: { b: { c: 1, d: [1, 2] } }, list: [{ x: 1 }], e: null };
    expect(shapeForMavera({ ...payload, a: { b: { c: 1 } } })).toEqual({ ...payload, a: { b: { c: 1 } } });
    expect(findShapeViolations({ ...payload, a: { b: { c: 1 } } })).toEqual([]);
  });

  it('cuts arrays to their first 100 items, at every level', () => {
    const shaped = shapeForMavera({ tags: range(250), nested: { ids: range(101) } });
    expect(shaped).toEqual({ tags: range(100), nested: { ids: range(100) } });
  });

  it('flattens objects below level 3 into dotted keys and deep lists into text', () => {
    const shaped = shapeForMavera({
      demographic: { profile: { geo: { country: 'DE', city: { name: 'Berlin' } }, langs: ['de', 'en'], age: 40 } },
      psychographic: { cluster: { 'geo.country': 'kept', geo: { country: 'lifted' } } },
      rows: [[{ a: 1 }], [[1, 2]]],
    });
    expect(shaped).toEqual({
      demographic: { profile: { 'geo.country': 'DE', 'geo.city.name': 'Berlin', langs: '["de","en"]', age: 40 } },
      psychographic: { cluster: { 'geo.country': 'kept' } },
      rows: [['{"a":1}'], ['[1,2]']],
    });
    expect(findShapeViolations(shaped)).toEqual([]);
  });

  it('keeps a `__proto__` key an ordinary key', () => {
    const payload = JSON.parse('{"__proto__": {"x": 1}, "name": "ok"}') as Record<string, never>;
    const shaped = shapeForMavera(payload);
    expect(Object.keys(shaped)).toEqual(['__proto__', 'name']);
    expect(Object.getPrototypeOf(shaped)).toBe(Object.prototype);
  });
});

describe('payload validation', () => {
  it('reports nesting and array-length violations with their paths', () => {
    expect(findShapeViolations({ a: { b: { c: { d: 1 } } }, list: range(101), ok: [[1]] })).toEqual([
      { path: 'a.b.c', message: 'nested 4 levels deep (limit 3)' },
      { path: 'list', message: '101 items (limit 100)' },
    ]);
  });

  it('reports undocumented fields and a name outside 2–100 characters', () => {
    const violations = validatePersonaPayload({
      name: 'x',
      description: 'd',
      pipeline_type: 'advanced',
      type: 'B2B',
      attributes: { revenue_tier: 'smb' },
    });
    expect(violations.map((v) => v.path)).toEqual(['name', '']);
    expect(violations[1]?.message).toMatch(/attributes/);
  });
});

describe('fitPersonaName', () => {
  it('collapses whitespace, pads short names and cuts long ones at a code point', () => {
    expect(fitPersonaName('  Smb   Customer ')).toBe('Smb Customer');
    expect(fitPersonaName('A')).toBe('A Persona');
    const emoji = '😀'.repeat(60);
    const fitted = fitPersonaName(emoji);
    expect(fitted).toBe(`${'😀'.repeat(49)}…`);
    expect(fitted.length).toBe(99);
  });
});
