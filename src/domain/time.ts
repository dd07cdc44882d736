/** Event time in milliseconds since the Unix epoch. The core never reads a clock: time is always an argument. */
export type EpochMs = number;

export const SECOND_MS = 1_000;
export const DAY_MS = 86_400_000;

/** Day index (UTC days since the epoch) of an instant; the unit of the traits' rolling-window buckets. */
export function dayIndex(at: EpochMs): number {
  return Math.floor(at / DAY_MS);
}

export function fromUnixSeconds(seconds: number): EpochMs {
  return seconds * SECOND_MS;
}
