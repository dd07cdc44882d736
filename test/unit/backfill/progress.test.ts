import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, ProgressReporter } from '../../../src/backfill/progress.js';

describe('formatProgress', () => {
  const base = { label: 'backfill stripe (customers)', pages: 13, skipped: 34 };

  it('says the ETA is unknown when the source gives no total', () => {
    expect(formatProgress({ ...base, objects: 1234, published: 1200, total: null, elapsedMs: 12_340 })).toBe(
      'backfill stripe (customers): 1,234 objects (1,200 published, 34 skipped), 13 pages, 100.0 objects/s, elapsed 12s, ETA unknown',
    );
  });

  it('estimates the time left from the throughput when the total is known', () => {
    expect(
      formatProgress({
        ...base,
        label: 'backfill segment',
        objects: 500,
        published: 490,
        total: 2000,
        elapsedMs: 10_000,
      }),
    ).toBe(
      'backfill segment: 500/2,000 objects (490 published, 34 skipped), 13 pages, 50.0 objects/s, elapsed 10s, ETA 30s',
    );
  });

  it('has no ETA before anything was read, and a closing form', () => {
    expect(formatProgress({ ...base, objects: 0, published: 0, skipped: 0, pages: 0, total: 10, elapsedMs: 0 })).toBe(
      'backfill stripe (customers): 0/10 objects (0 published, 0 skipped), 0 pages, 0.0 objects/s, elapsed 0s, ETA unknown',
    );
    expect(
      formatProgress({ ...base, objects: 60, published: 60, skipped: 0, total: null, elapsedMs: 125_000 }, true),
    ).toBe(
      'backfill stripe (customers): 60 objects (60 published, 0 skipped), 13 pages, 0.5 objects/s, done in 2m 05s',
    );
  });
});

describe('formatDuration', () => {
  it('prints seconds, minutes and hours', () => {
    expect([950, 59_999, 65_000, 3_599_000, 7_500_000].map(formatDuration)).toEqual([
      '0s',
      '59s',
      '1m 05s',
      '59m 59s',
      '2h 05m',
    ]);
  });
});

describe('ProgressReporter', () => {
  it('writes the closing line with the counters and the time since it was made', () => {
    let now = 1_000;
    const lines: string[] = [];
    const reporter = new ProgressReporter(
      'backfill stripe',
      (line) => lines.push(line),
      () => now,
      5_000,
    );
    reporter.objects = 30;
    reporter.published = 28;
    reporter.skipped = 2;
    reporter.pages = 3;
    now += 3_000;
    reporter.finish(true);
    expect(lines).toEqual([
      'backfill stripe: 30 objects (28 published, 2 skipped), 3 pages, 10.0 objects/s, done in 3s\n',
    ]);
  });
});
