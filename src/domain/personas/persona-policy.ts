import { z } from 'zod';
import { formatIssuePath } from '../segments/segment-family.js';

/**
 * When a segment gets a persona and when a changed summary is worth a PATCH. Creating a persona costs 300
 * credits and an update is not known to be free, so small wobbles are not sent; thresholds are compared with
 * the LAST SENT summary, so slow drift accumulates until it crosses them.
 */
export const personaPolicySchema = z.strictObject({
  /** Segments with fewer members get no persona (seed 002 skips clusters with n < 3). */
  min_segment_size: z.int().min(1).default(3),
  /** Update when |count − sent count| / sent count is above this (0.05: 5 %)… */
  count_change_ratio: z.number().min(0).default(0.05),
  /**
   * …and the count moved by at least this many members. 1 keeps the ratio the only rule; raise it so that
   * small segments, where one member is already 5 %, do not update on every join or leave.
   */
  min_count_change: z.int().min(0).default(1),
  /** Update when any average moved by more than this fraction of its sent value (from 0: any move). */
  average_change_ratio: z.number().min(0).default(0.05),
});

export type PersonaPolicy = z.output<typeof personaPolicySchema>;

export const defaultPersonaPolicy: PersonaPolicy = personaPolicySchema.parse({});

export class InvalidPersonaPolicyError extends Error {
  constructor(readonly issues: readonly { readonly path: string; readonly message: string }[]) {
    super(`invalid persona policy: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`);
    this.name = 'InvalidPersonaPolicyError';
  }
}

/** Parses the pipeline config's persona policy (missing keys take the defaults); errors name the field. */
export function parsePersonaPolicy(input: unknown): PersonaPolicy {
  const result = personaPolicySchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new InvalidPersonaPolicyError(
    result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
  );
}
