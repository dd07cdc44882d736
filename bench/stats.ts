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

export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  // Several full collections: one leaves weakly held and lazily swept memory behind.
  for (let i = 0; i < 4; i++) gc();
}

export function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(0)}/s`;
}
