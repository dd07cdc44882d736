export { parseSegmentPayload } from './parse-segment-payload.js';
export type { ParsedSegmentMessage, SegmentParseOptions, SegmentParseResult } from './parse-segment-payload.js';
export { SegmentMessageError } from './segment-message-error.js';
export type { FieldPath, SegmentErrorCode } from './segment-message-error.js';
export {
  SEGMENT_MESSAGE_ID_MAX_LENGTH,
  isoTimestampSchema,
  jsonObjectSchema,
  segmentBatchSchema,
  segmentMessageSchema,
  segmentMessageTypeSchema,
} from './segment-schemas.js';
export type { SegmentBatchInput, SegmentMessageInput } from './segment-schemas.js';
export { formatIsoTimestamp, parseIsoTimestamp } from './iso-timestamp.js';
