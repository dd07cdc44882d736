import { DAY_MS, type EpochMs } from '../time.js';
import type { RecurringInterval } from './model.js';

/**
 * The instant `count` billing intervals after `start`, on the calendar as Stripe bills it (UTC): months and years
 * keep the day of month and clamp it to the month's last day (Jan 31 + 1 month = Feb 28/29); days and weeks are
 * fixed lengths.
 */
export function addBillingInterval(start: EpochMs, interval: RecurringInterval, count: number): EpochMs {
  switch (interval) {
    case 'day':
      return start + count * DAY_MS;
    case 'week':
      return start + 7 * count * DAY_MS;
    case 'month':
      return addMonths(start, count);
    case 'year':
      return addMonths(start, 12 * count);
  }
}

function addMonths(start: EpochMs, months: number): EpochMs {
  const date = new Date(start);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDayOfTargetMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(date.getUTCDate(), lastDayOfTargetMonth),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  );
}
