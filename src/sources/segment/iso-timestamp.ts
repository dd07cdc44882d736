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
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function formatIsoTimestamp(at: EpochMs): string {
  return new Date(at).toISOString();
}
