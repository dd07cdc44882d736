import { z } from 'zod';
import type { JsonObject } from '../../domain/segment/model.js';
import type { EpochMs } from '../../domain/time.js';
import { parseIsoTimestamp } from './iso-timestamp.js';
import { isJsonObject } from './json-value.js';

export const SEGMENT_MESSAGE_ID_MAX_LENGTH = 100;

export const segmentMessageTypeSchema = z.enum(['identify', 'track', 'group', 'page', 'screen', 'alias']);

/** ISO-8601 string → epoch ms (see iso-timestamp.ts for the accepted forms). */
export const isoTimestampSchema = z.string().transform((text, ctx): EpochMs => {
  const at = parseIsoTimestamp(text);
  if (at === null) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO-8601 date-time, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return at;
});

/** A JSON object (properties, traits, context, integrations). */
export const jsonObjectSchema = z.custom<JsonObject>(isJsonObject, { error: 'expected a JSON object' });

/** Segment ids are strings; numeric ids (common from server code) are accepted and stringified; '' counts as absent. */
const idSchema = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value))
  .nullish()
  .transform((value) => (value === '' || value === undefined ? null : value));

/**
 * One Segment Spec message as sent to the Tracking API or delivered by a Segment webhook.
 * Loose: fields we do not model pass through untouched.
 */
export const segmentMessageSchema = z.looseObject({
  type: segmentMessageTypeSchema,
  messageId: z.string().max(SEGMENT_MESSAGE_ID_MAX_LENGTH).nullish(),
  userId: idSchema,
  anonymousId: idSchema,
  groupId: idSchema,
  previousId: idSchema,
  event: z.string().nullish(),
  name: z.string().nullish(),
  timestamp: isoTimestampSchema.nullish(),
  originalTimestamp: isoTimestampSchema.nullish(),
  sentAt: isoTimestampSchema.nullish(),
  receivedAt: isoTimestampSchema.nullish(),
  properties: jsonObjectSchema.nullish(),
  traits: jsonObjectSchema.nullish(),
  context: jsonObjectSchema.nullish(),
  integrations: jsonObjectSchema.nullish(),
});

export type SegmentMessageInput = z.output<typeof segmentMessageSchema>;

/** `POST /v1/batch` body: batch-level context/integrations are merged into every item, sentAt applies to items lacking one. */
export const segmentBatchSchema = z.looseObject({
  batch: z.array(z.unknown()),
  context: jsonObjectSchema.nullish(),
  integrations: jsonObjectSchema.nullish(),
  sentAt: isoTimestampSchema.nullish(),
  writeKey: z.string().nullish(),
});

export type SegmentBatchInput = z.output<typeof segmentBatchSchema>;
