import type { Counter, Gauge, Histogram } from 'prom-client';

/** A metric's labels by name, with the type of value each accepts (partitions are numbers, decisions an enum). */
export type LabelShape = Record<string, string | number>;
type LabelName<Labels extends LabelShape> = keyof Labels & string;

/** What a label value becomes once the label has seen its limit of distinct values. */
export const OVERFLOW_LABEL_VALUE = 'other';

/**
 * Every series costs Prometheus memory for as long as it is retained, so a label must never take unbounded values
 * (a customer id, a free-text error). Each label admits at most `limit` distinct values; later new values are folded
 * into `other`, so a mistake upstream shows up as an `other` series instead of an exploding scrape.
 */
export class LabelValueLimit {
  private readonly admitted = new Set<string>();

  constructor(readonly limit: number) {}

  admit(value: string | number): string {
    const text = typeof value === 'number' ? String(value) : value;
    if (this.admitted.has(text)) return text;
    if (this.admitted.size >= this.limit) return OVERFLOW_LABEL_VALUE;
    this.admitted.add(text);
    return text;
  }
}

/** The bounded label values of one metric. */
export class LabelGuard<Labels extends LabelShape> {
  private readonly limits: readonly (readonly [LabelName<Labels>, LabelValueLimit])[];

  constructor(limits: Readonly<Record<LabelName<Labels>, number>>) {
    this.limits = (Object.keys(limits) as LabelName<Labels>[]).map(
      (name) => [name, new LabelValueLimit(limits[name])] as const,
    );
  }

  get labelNames(): readonly LabelName<Labels>[] {
    return this.limits.map(([name]) => name);
  }

  bound(labels: Readonly<Labels>): Record<LabelName<Labels>, string> {
    const bounded: Partial<Record<LabelName<Labels>, string>> = {};
    for (const [name, limit] of this.limits) bounded[name] = limit.admit(labels[name]);
    return bounded as Record<LabelName<Labels>, string>;
  }
}

export class LabelledCounter<Labels extends LabelShape> {
  constructor(
    private readonly counter: Counter<LabelName<Labels>>,
    private readonly guard: LabelGuard<Labels>,
  ) {}

  /** Call once per batch with the batch's count rather than once per record. */
  inc(labels: Readonly<Labels>, value = 1): void {
    this.counter.inc(this.guard.bound(labels), value);
  }
}

export class LabelledGauge<Labels extends LabelShape> {
  constructor(
    private readonly gauge: Gauge<LabelName<Labels>>,
    private readonly guard: LabelGuard<Labels>,
  ) {}

  set(labels: Readonly<Labels>, value: number): void {
    this.gauge.set(this.guard.bound(labels), value);
  }

  /** Drops the series, e.g. when a partition is revoked, so a stale value is not reported as current. */
  remove(labels: Readonly<Labels>): void {
    this.gauge.remove(this.guard.bound(labels));
  }

  reset(): void {
    this.gauge.reset();
  }
}

export class LabelledHistogram<Labels extends LabelShape> {
  constructor(
    private readonly histogram: Histogram<LabelName<Labels>>,
    private readonly guard: LabelGuard<Labels>,
  ) {}

  observe(labels: Readonly<Labels>, seconds: number): void {
    this.histogram.observe(this.guard.bound(labels), seconds);
  }

  /** Starts a clock; calling the result observes the elapsed seconds and returns them. */
  startTimer(labels: Readonly<Labels>): () => number {
    const end = this.histogram.startTimer(this.guard.bound(labels));
    return () => end();
  }
}

export class PlainCounter {
  constructor(private readonly counter: Counter) {}

  inc(value = 1): void {
    this.counter.inc(value);
  }
}

export class PlainGauge {
  constructor(private readonly gauge: Gauge) {}

  set(value: number): void {
    this.gauge.set(value);
  }
}

export class PlainHistogram {
  constructor(private readonly histogram: Histogram) {}

  observe(seconds: number): void {
    this.histogram.observe(seconds);
  }

  startTimer(): () => number {
    const end = this.histogram.startTimer();
    return () => end();
  }
}
