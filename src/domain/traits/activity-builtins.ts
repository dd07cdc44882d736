import { DAY_MS, type EpochMs } from '../time.js';

/**
 * churn_risk ∈ [0, 1], rounded to 2 decimals; null for a user with no activity (track/page/screen) at all.
 *
 *   recency   = 1 − 2^(−d / 14)   d = days (fractional) from the last activity to the evaluation time, ≥ 0
 *   frequency = 4 / (4 + n)       n = activity events in the 30-day activity window
 *   churn     = 0.6 · recency + 0.4 · frequency
 *
 * Active today with 60 events → 0.03; one event just now → 0.32; 10 events then 7 silent days → 0.29;
 * nothing for 30 days → 0.86; the score tends to 1. Neither term can fall while time passes without events
 * (d grows, n can only shrink as the window slides), so inactivity alone raises the risk monotonically.
 */
export function churnRisk(lastActivityAt: EpochMs, activityEvents: number, at: EpochMs): number | null {
  if (lastActivityAt === -Infinity) return null;
  const idleDays = Math.max(0, at - lastActivityAt) / DAY_MS;
  const recency = 1 - 2 ** (-idleDays / RECENCY_HALF_LIFE_DAYS);
  const frequency = FREQUENCY_HALF_POINT / (FREQUENCY_HALF_POINT + activityEvents);
  return Math.round((RECENCY_WEIGHT * recency + (1 - RECENCY_WEIGHT) * frequency) * 100) / 100;
}

const RECENCY_HALF_LIFE_DAYS = 14;
const FREQUENCY_HALF_POINT = 4;
const RECENCY_WEIGHT = 0.6;

/** Active days (UTC days with ≥ 1 track/page/screen call) in the 30-day activity window for each tier. */
export const ENGAGEMENT_HIGH_MIN_ACTIVE_DAYS = 12;
export const ENGAGEMENT_MEDIUM_MIN_ACTIVE_DAYS = 4;

/**
 * engagement_tier from active days in the 30-day window: high ≥ 12 (about 3 days a week), medium ≥ 4 (about
 * weekly), low otherwise, including users whose activity is older than the window; null with no activity at all.
 * Days rather than events so one burst of instrumentation does not make a user "highly engaged".
 */
export function engagementTier(lastActivityAt: EpochMs, activeDays: number): 'high' | 'medium' | 'low' | null {
  if (lastActivityAt === -Infinity) return null;
  if (activeDays >= ENGAGEMENT_HIGH_MIN_ACTIVE_DAYS) return 'high';
  if (activeDays >= ENGAGEMENT_MEDIUM_MIN_ACTIVE_DAYS) return 'medium';
  return 'low';
}
