import type { EpochMs } from '../../domain/time.js';

/**
 * ISO-8601 date-time as Segment sends it: `YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|±HH[:]MM]`.
 * A string without a zone is read as UTC (the spec says every timestamp is UTC), never as the host's local time,
 * so parsing does not depend on the machine's TZ. Fractions beyond milliseconds are truncated.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

export function parseIsoTimestamp(text: string): EpochMs | null {
  const m = ISO_DATE_TIME.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offH, offM] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (zulu === undefined && sign !== undefined) {
    const oh = Number(offH);
    const om = Number(offM);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return utcInstant(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/**
 * Date.UTC reads years 0–99 as 1900–1999, so `0000-01-01` would become 1900: the year is set on its own instead,
 * which takes it literally (proleptic Gregorian, as ISO-8601 does).
 */
function utcInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): EpochMs {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  return date.getTime();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

export function formatIsoTimestamp(at: EpochMs): string {
  return new Date(at).toISOString();
}
