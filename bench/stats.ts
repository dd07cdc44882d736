import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Summary statistics of repeated measurements: shared machines are noisy, so we report spread, not one number. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Relative standard deviation (stddev / mean), 0..1. */
  readonly rsd: number;
  readonly runs: number;
}

export function spreadOf(samples: readonly number[]): Spread {
  if (samples.length === 0) throw new RangeError('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
  return {
    median,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    rsd: mean === 0 ? 0 : Math.sqrt(variance) / mean,
    runs: samples.length,
  };
}

/** The nearest-rank percentile (0 < fraction ≤ 1) of unsorted samples; 0 for none. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] as number;
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? 0 : samples.reduce((sum, value) => sum + value, 0) / samples.length;
}

let gcFunction: (() => void) | undefined;

/**
 * V8's gc(): the one `node --expose-gc` gives, else turned on at run time, so `node dist/bench/main.js` works
 * without the flag (the flag only affects contexts created after it is set, hence the fresh context).
 */
function gc(): () => void {
  if (gcFunction !== undefined) return gcFunction;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) {
    gcFunction = exposed;
    return exposed;
  }
  setFlagsFromString('--expose-gc');
  const created = runInNewContext('gc') as unknown;
  if (typeof created !== 'function') throw new Error('cannot reach the garbage collector: run with node --expose-gc');
  gcFunction = created as () => void;
  return gcFunction;
}

export function collectGarbage(): void {
  const collect = gc();
  // Several full collections: one leaves weakly held and lazily swept memory behind.
  for (let i = 0; i < 4; i++) collect();
}

/**
 * Memory in use by JavaScript after a full collection: the V8 heap plus ArrayBuffer contents, which live outside it
 * (the key-hash arrays of the reducer's EntityIndex are such buffers: left out, the index would look free).
 */
export function jsMemoryUsed(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(0)}/s`;
}

export function formatCount(count: number): string {
  if (count >= 1e6 && count % 1e5 === 0) return `${String(count / 1e6)}M`;
  if (count >= 1e3 && count % 100 === 0) return `${String(count / 1e3)}k`;
  return String(count);
}

export function formatSeconds(seconds: number): string {
  return seconds >= 10 ? `${seconds.toFixed(1)} s` : `${seconds.toFixed(2)} s`;
}

export function formatMs(ms: number): string {
  return ms >= 1_000 ? `${(ms / 1_000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** "min–max, rsd over n runs" of a spread, each end formatted by `format`. */
export function formatSpread(spread: Spread, format: (value: number) => string): string {
  return `${format(spread.min)}–${format(spread.max)}, rsd ${(spread.rsd * 100).toFixed(1)}% over ${String(spread.runs)} runs`;
}
