import { z } from 'zod';

/**
 * Field schemas shared by the topic records. Each matches one Avro primitive so the schema-agreement test can pair
 * them: `long` ↔ safe integer, `int` ↔ 32-bit integer.
 */

/** Avro `long` with logicalType `timestamp-millis`: epoch milliseconds as a JS number. */
export const epochMsSchema = z.int();

/** Avro `long` holding an amount in minor currency units (never fractional). */
export const minorUnitsSchema = z.int();

/** A non-empty identifier (event ids, entity keys, persona ids). */
export const idSchema = z.string().min(1);

/** `family/segment`: neither part may contain a slash, so the key splits back unambiguously. */
export const segmentKeySchema = z.string().regex(/^[^/]+\/[^/]+$/, { error: 'expected "family/segment"' });

export const segmentPartSchema = z.string().regex(/^[^/]+$/, { error: 'expected a non-empty name without "/"' });

export function segmentKey(family: string, segment: string): string {
  return `${family}/${segment}`;
}
