import type { z } from 'zod';

export interface RecordIssue {
  /** Dotted zod issue path, e.g. `revenue.flags.past_due`; empty for the record itself. */
  readonly path: string;
  readonly message: string;
}

/** A record on a topic did not match its schema. Names the record and every offending field. */
export class RecordValidationError extends Error {
  constructor(
    readonly recordName: string,
    readonly issues: readonly RecordIssue[],
  ) {
    super(
      `invalid ${recordName}: ${issues.map((issue) => `${issue.path || '(record)'}: ${issue.message}`).join('; ')}`,
    );
    this.name = 'RecordValidationError';
  }
}

/** Parses a decoded record (Avro or JSON) into its typed form, or throws RecordValidationError. */
export function parseRecord<Schema extends z.ZodType>(
  recordName: string,
  schema: Schema,
  value: unknown,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RecordValidationError(
    recordName,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
