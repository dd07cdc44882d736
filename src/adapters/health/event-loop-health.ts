import { monitorEventLoopDelay, performance, type ELDHistogram } from 'node:perf_hooks';
import type { CheckResult } from './health-registry.js';

export interface EventLoopHealthOptions {
  /** A sample whose worst delay exceeds this counts as a stall (default 1000 ms). */
  readonly thresholdMs?: number;
  /** Unhealthy once stalls have lasted this long without a healthy sample in between (default 5000 ms). */
  readonly sustainMs?: number;
  /** How often delays are sampled (default 500 ms). */
  readonly sampleIntervalMs?: number;
  /** Monotonic milliseconds; performance.now by default. */
  readonly now?: () => number;
}

export const DEFAULT_EVENT_LOOP_THRESHOLD_MS = 1_000;
export const DEFAULT_EVENT_LOOP_SUSTAIN_MS = 5_000;
export const DEFAULT_EVENT_LOOP_SAMPLE_INTERVAL_MS = 500;

const NS_PER_MS = 1e6;

/**
 * Liveness of the event loop. A blocked loop cannot answer /healthz at all, so the probe's own timeout covers a loop
 * that is stuck for good; this check catches the rest: a loop that answers now and then but spends most of its time
 * blocked (a runaway synchronous batch), and the stall that just ended. Each sample takes the worst delay seen by
 * perf_hooks' monitorEventLoopDelay and by this sampler's own lateness (which sees a block even before the histogram
 * has recorded it). Consecutive samples over the threshold form one stall; the loop is unhealthy once a stall has
 * lasted `sustainMs`. One healthy sample ends the stall.
 */
export class EventLoopHealth {
  private readonly thresholdMs: number;
  private readonly sustainMs: number;
  private readonly sampleIntervalMs: number;
  private readonly now: () => number;
  private readonly histogram: ELDHistogram;
  private timer: NodeJS.Timeout | undefined;
  private lastSampleAt: number;
  private stallSince: number | undefined;
  private lastMaxMs = 0;
  private lastP99Ms = 0;

  constructor(options: EventLoopHealthOptions = {}) {
    this.thresholdMs = options.thresholdMs ?? DEFAULT_EVENT_LOOP_THRESHOLD_MS;
    this.sustainMs = options.sustainMs ?? DEFAULT_EVENT_LOOP_SUSTAIN_MS;
    this.sampleIntervalMs = options.sampleIntervalMs ?? DEFAULT_EVENT_LOOP_SAMPLE_INTERVAL_MS;
    this.now = options.now ?? (() => performance.now());
    // The histogram's own timer fires every `resolution` ms; a tenth of the threshold resolves stalls well enough.
    this.histogram = monitorEventLoopDelay({
      resolution: Math.max(1, Math.min(20, Math.floor(this.thresholdMs / 10))),
    });
    this.lastSampleAt = this.now();
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.histogram.enable();
    this.lastSampleAt = this.now();
    this.timer = setInterval(() => {
      this.sample(this.now());
    }, this.sampleIntervalMs);
    // Monitoring must never be what keeps a draining process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram.disable();
  }

  check(): CheckResult {
    const now = this.now();
    // A probe answered right after a block may run before the overdue sampling timer: sample now instead.
    if (now - this.lastSampleAt >= this.sampleIntervalMs) this.sample(now);
    const stalledMs = this.stallSince === undefined ? 0 : now - this.stallSince;
    if (stalledMs >= this.sustainMs) {
      return {
        ok: false,
        detail: `event loop delayed over ${ms(this.thresholdMs)} for ${ms(stalledMs)} (worst delay ${ms(this.lastMaxMs)}, limit ${ms(this.sustainMs)})`,
      };
    }
    return {
      ok: true,
      detail: `event loop delay max ${ms(this.lastMaxMs)}, p99 ${ms(this.lastP99Ms)} (stall threshold ${ms(this.thresholdMs)})`,
    };
  }

  private sample(now: number): void {
    const lateness = Math.max(0, now - this.lastSampleAt - this.sampleIntervalMs);
    const recorded = this.histogram.count > 0;
    const histogramMax = recorded ? this.histogram.max / NS_PER_MS : 0;
    this.lastP99Ms = recorded ? this.histogram.percentile(99) / NS_PER_MS : 0;
    this.histogram.reset();
    const worst = Math.max(histogramMax, lateness);
    this.lastMaxMs = worst;
    this.lastSampleAt = now;
    if (worst > this.thresholdMs) {
      // The loop has been held since the delay began, not since this sample noticed it.
      this.stallSince ??= now - worst;
    } else {
      this.stallSince = undefined;
    }
  }
}

function ms(value: number): string {
  return `${String(Math.round(value))} ms`;
}
