import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPython, UnsupportedFormatSpecError } from '../../../src/domain/personas/format-python.js';

interface PythonCase {
  readonly value: string;
  readonly spec: string;
  readonly python: string;
}

const fixture = JSON.parse(readFileSync(new URL('./python-format-cases.json', import.meta.url), 'utf8')) as {
  readonly cases: readonly PythonCase[];
};

function pythonFloat(repr: string): number {
  if (repr === 'nan') return Number.NaN;
  if (repr === 'inf') return Number.POSITIVE_INFINITY;
  if (repr === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(repr);
}

describe('formatPython', () => {
  it('rounds the exact binary value half to even, as Python does', () => {
    expect(formatPython(2.5, '.0f')).toBe('2');
    expect(formatPython(3.5, '.0f')).toBe('4');
    expect(formatPython(0.125, '.2f')).toBe('0.12');
    expect(formatPython(0.375, '.2f')).toBe('0.38');
    // 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary.
    expect(formatPython(2.675, '.2f')).toBe('2.67');
    expect(formatPython(28449.5, ',.0f')).toBe('28,450');
    expect(formatPython(28450.5, ',.0f')).toBe('28,450');
  });

  it('groups thousands and formats percentages after a float ×100', () => {
    expect(formatPython(28450, ',.0f')).toBe('28,450');
    expect(formatPython(1234567.891, ',.2f')).toBe('1,234,567.89');
    expect(formatPython(999999.5, ',.0f')).toBe('1,000,000');
    expect(formatPython(0.05, '.0%')).toBe('5%');
    expect(formatPython(0.22, '.0%')).toBe('22%');
    expect(formatPython(0.125, '.0%')).toBe('12%');
    expect(formatPython(0.145, '.0%')).toBe('14%');
  });

  it('keeps the sign of negative zero and of negatives that round to zero', () => {
    expect(formatPython(-0, '.0f')).toBe('-0');
    expect(formatPython(-0.4, '.0f')).toBe('-0');
    expect(formatPython(-1234.5, ',.0f')).toBe('-1,234');
  });

  it(`matches CPython on all ${fixture.cases.length} recorded cases`, () => {
    const mismatches = fixture.cases
      .map((c) => ({ ...c, ours: formatPython(pythonFloat(c.value), c.spec) }))
      .filter((c) => c.ours !== c.python);
    expect(mismatches).toEqual([]);
  });

  it('rejects specs it does not implement', () => {
    expect(() => formatPython(1, '.0e')).toThrow(UnsupportedFormatSpecError);
    expect(() => formatPython(1, '>10.1f')).toThrow('unsupported format spec ">10.1f"');
  });
});
