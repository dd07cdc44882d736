import { DAY_MS, type EpochMs } from '../domain/time.js';

/**
 * How far past its arrival an event may say it happened: the default of MAX_EVENT_TIME_SKEW_MS. A day covers any
 * honest clock (Segment corrects device clocks with sentAt, Stripe's are Stripe's) and keeps a spoofed future
 * timestamp from moving a partition's watermark more than that.
 */
export const DEFAULT_MAX_EVENT_TIME_SKEW_MS = DAY_MS;

/**
 * The earliest event time accepted: the Unix epoch. Stripe's `created` counts seconds from it and Segment does not
 * ingest events before it; an earlier time is a broken clock or a typo, not history.
 */
export const EARLIEST_EVENT_TIME: EpochMs = 0;

/** The latest instant a four-digit ISO-8601 year can write: what a normalised Segment message can carry and be read back. */
export const LATEST_READABLE_TIME: EpochMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The event times accepted for one input: `latest` is its arrival plus the skew, never beyond what can be read back. */
export interface EventTimeBounds {
  readonly earliest: EpochMs;
  readonly latest: EpochMs;
  /** How the rule on `latest` reads in a refusal, e.g. "24 h after the message was received". */
  readonly latestRule: string;
}

/** Bounds without an arrival to measure from: what any stored record must satisfy to be read back. */
export const READABLE_BOUNDS: EventTimeBounds = {
  earliest: EARLIEST_EVENT_TIME,
  latest: LATEST_READABLE_TIME,
  latestRule: 'the year 9999',
};

/**
 * The bounds at the edge: from the epoch to `receivedAt` + `maxSkewMs` (an infinite skew leaves only the readable
 * limit; what decodes a record already on a topic passes one, as the processor judges time against its clock).
 */
export function eventTimeBounds(receivedAt: EpochMs, maxSkewMs: number, what: string): EventTimeBounds {
  const latest = receivedAt + maxSkewMs;
  if (!(latest < LATEST_READABLE_TIME)) return READABLE_BOUNDS;
  return { earliest: EARLIEST_EVENT_TIME, latest, latestRule: `${formatDuration(maxSkewMs)} after ${what}` };
}

/** Which way an event time falls outside its bounds, or null when it is inside. */
export function outOfBounds(at: EpochMs, bounds: EventTimeBounds): 'too_old' | 'in_future' | null {
  if (!(at >= bounds.earliest)) return 'too_old';
  if (!(at <= bounds.latest)) return 'in_future';
  return null;
}

/** "may be at most …" / "may not be before …": the rule a refused time broke, without the time itself. */
export function boundRule(problem: 'too_old' | 'in_future', bounds: EventTimeBounds): string {
  return problem === 'too_old'
    ? `may not be before ${new Date(bounds.earliest).toISOString()}`
    : `may be at most ${bounds.latestRule}`;
}

/** 86400000 → "24 h", 90000 → "90 s": the largest whole unit. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${String(ms / 3_600_000)} h`;
  if (ms % 60_000 === 0) return `${String(ms / 60_000)} min`;
  if (ms % 1_000 === 0) return `${String(ms / 1_000)} s`;
  return `${String(ms)} ms`;
}
