import type { EpochMs } from '../../domain/time.js';
import { boundRule, eventTimeBounds, outOfBounds } from '../event-time-bounds.js';
import type { StripeEventInfo } from './parse-event.js';

/**
 * Why an event's `created` is refused at the edge (more than `maxSkewMs` after it arrived), or null. The reason
 * names the field and the rule, never the time.
 */
export function stripeEventTimeRefusal(event: StripeEventInfo, receivedAt: EpochMs, maxSkewMs: number): string | null {
  const bounds = eventTimeBounds(receivedAt, maxSkewMs, 'the event was received');
  const problem = outOfBounds(event.created, bounds);
  return problem === null ? null : `created ${boundRule(problem, bounds)} (event ${event.id})`;
}
