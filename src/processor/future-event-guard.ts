import type { DomainInput } from '../domain/pipeline/domain-input.js';
import type { EpochMs } from '../domain/time.js';
import type { CanonicalEvent } from '../records/canonical-event.js';
import { formatDuration } from '../sources/event-time-bounds.js';

/** The dead-letter `error_code` of a record whose event time lies too far ahead. */
export const FUTURE_EVENT_CODE = 'event_time_in_future';

/**
 * The latest event time the processor accepts from a record: the earlier of its publish time (the Kafka record
 * timestamp) and the wall clock, plus the tolerance. The wall clock bounds whatever a topic holds, so one record
 * cannot carry a partition's watermark (and every profile's `as_of`) into the future; the publish time makes the
 * verdict the same on a replay run long after. A missing or non-positive timestamp leaves the wall clock alone.
 */
export function latestAcceptedEventTime(now: EpochMs, publishedAt: string | undefined, toleranceMs: number): EpochMs {
  const published = publishedAt === undefined ? Number.NaN : Number(publishedAt);
  const reference = published > 0 && published < now ? published : now;
  return reference + toleranceMs;
}

/**
 * The newest time a record would put into state: its envelope's `occurred_at` (what moves the watermark) or any
 * time its payload carries (a message's timestamp, a fact's), which can differ only in a record not written by a
 * connector.
 */
export function newestEventTime(event: CanonicalEvent, inputs: readonly DomainInput[]): EpochMs {
  let newest = event.occurred_at;
  for (const input of inputs) {
    if (input.source === 'segment') newest = Math.max(newest, input.message.timestamp);
    else for (const fact of input.facts) newest = Math.max(newest, fact.at);
  }
  return newest;
}

/** The dead letter's reason: the time, the limit and where the limit comes from (operators read this one). */
export function futureEventReason(eventTime: EpochMs, latest: EpochMs, toleranceMs: number): string {
  return (
    `event time ${instant(eventTime)} is after ${instant(latest)}, the latest accepted: the record's publish time ` +
    `or the wall clock, whichever is earlier, plus ${formatDuration(toleranceMs)} (MAX_EVENT_TIME_SKEW_MS)`
  );
}

/** ISO-8601 where a Date can hold it; epoch ms otherwise (a record may hold any number). */
function instant(at: EpochMs): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? `${String(at)} ms since the epoch` : date.toISOString();
}
