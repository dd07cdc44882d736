import type { SegmentMessage } from '../segment/model.js';
import type { StripeFact } from '../stripe/model.js';

/** One input of the reducer: the facts of one Stripe event, or one Segment message. */
export type DomainInput =
  | { readonly source: 'stripe'; readonly facts: readonly StripeFact[] }
  | { readonly source: 'segment'; readonly message: SegmentMessage };
