import type { EpochMs } from '../time.js';

/** A Segment Spec message after validation, batch flattening and timestamp correction. */
export type SegmentMessageType = 'identify' | 'track' | 'group' | 'page' | 'screen' | 'alias';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

export interface SegmentMessage {
  readonly type: SegmentMessageType;
  /** Segment's dedupe key (≤ 100 chars). */
  readonly messageId: string;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  /** userId, else anonymousId: the Kafka key and the profile's entity id. */
  readonly entityKey: string;
  /** Corrected event time: timestamp, else receivedAt − (sentAt − originalTimestamp), else receivedAt. */
  readonly timestamp: EpochMs;
  /** track: the event name; page/screen: the page name; otherwise null. */
  readonly event: string | null;
  /** track/page/screen properties ({} otherwise). */
  readonly properties: JsonObject;
  /** identify/group traits ({} otherwise). */
  readonly traits: JsonObject;
  readonly groupId: string | null;
  readonly previousId: string | null;
}
