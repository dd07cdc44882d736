import { z } from 'zod';
import { epochMsSchema } from './record-fields.js';

/**
 * schemas/dead-letter.avsc — a record that could not be processed (dlq topic).
 * `value` carries the original bytes as base64 text rather than Avro `bytes`, so the same record also travels as
 * JSON when no schema registry is configured, and Avro-framed or non-UTF-8 values survive unchanged.
 */
export const deadLetterSchema = z.object({
  topic: z.string().min(1),
  partition: z.int32().nonnegative(),
  /** Kafka offsets are 64-bit; kept as the decimal string the client library reports. */
  offset: z.string().regex(/^\d+$/, { error: 'expected a decimal offset' }),
  key: z.string().nullable().default(null),
  reason: z.string(),
  error_code: z.string().min(1),
  value: z.base64().nullable().default(null),
  at: epochMsSchema,
});

export type DeadLetter = z.output<typeof deadLetterSchema>;

export function encodeDeadLetterValue(value: Uint8Array | null): string | null {
  return value === null ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

export function decodeDeadLetterValue(value: string | null): Buffer | null {
  return value === null ? null : Buffer.from(value, 'base64');
}
