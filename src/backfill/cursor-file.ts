import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/*
 * The cursor file: where a backfill stands, written after every page the broker acknowledged, so a run that was
 * killed continues from the first unfinished page. JSON, validated on load; times are Unix seconds as in Stripe.
 */

export const STRIPE_BACKFILL_TYPES = [
  'customers',
  'subscriptions',
  'invoices',
  'charges',
  'payment_methods',
  'disputes',
] as const;
export type StripeBackfillType = (typeof STRIPE_BACKFILL_TYPES)[number];

/**
 * The list walks of an object backfill, in the order they run. `customers` also carries payment methods (listed per
 * customer of each page), so customers are paged once whichever of the two is asked for.
 */
export const STRIPE_WALKS = ['customers', 'subscriptions', 'invoices', 'charges', 'disputes'] as const;
export type StripeWalk = (typeof STRIPE_WALKS)[number];

const unixSeconds = z.int().nonnegative();

const walkState = z.discriminatedUnion('done', [
  z.object({ done: z.literal(true) }),
  /** `starting_after`: the last object of the last page published. */
  z.object({ done: z.literal(false), starting_after: z.string().min(1) }),
]);
export type WalkState = z.infer<typeof walkState>;

export const stripeCursorSchema = z.object({
  version: z.literal(1),
  source: z.literal('stripe'),
  objects: z
    .object({
      types: z.array(z.enum(STRIPE_BACKFILL_TYPES)).min(1),
      /** `created[gte]` of every list, or null for everything. */
      since: unixSeconds.nullable(),
      /** When this backfill began: a later `--events` catch-up starts there unless told otherwise. */
      started_at: unixSeconds,
      finished_at: unixSeconds.nullable(),
      walks: z.partialRecord(z.enum(STRIPE_WALKS), walkState),
    })
    .nullable(),
  events: z
    .object({
      /** `created` of the newest event a finished catch-up published. */
      published_through: unixSeconds.nullable(),
      /** The catch-up in progress (events are listed newest first, so it finishes before the watermark moves). */
      run: z
        .object({
          created_gte: unixSeconds.nullable(),
          starting_after: z.string().min(1).nullable(),
          newest: unixSeconds.nullable(),
        })
        .nullable(),
    })
    .nullable(),
});
export type StripeCursor = z.infer<typeof stripeCursorSchema>;

export const segmentCursorSchema = z.object({
  version: z.literal(1),
  source: z.literal('segment'),
  users: z.object({
    /** Hash of the user id list: a different list cannot continue this cursor. */
    list_hash: z.string().min(1),
    total: z.int().nonnegative(),
    /** Users of the list (in order) whose traits were published. */
    done: z.int().nonnegative(),
    last: z.string().min(1).nullable(),
    finished_at: unixSeconds.nullable(),
  }),
});
export type SegmentCursor = z.infer<typeof segmentCursorSchema>;

/** The cursor file exists but cannot be used; names the file and the offending field. */
export class CursorFileError extends Error {
  constructor(
    readonly path: string,
    readonly field: string,
    message: string,
  ) {
    super(`cursor file ${path}: ${field === '' ? '' : `${field}: `}${message}`);
    this.name = 'CursorFileError';
  }
}

/** The cursor file was written by a different backfill (other types, --since or user list): continuing it would be wrong. */
export class CursorMismatchError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`cursor file ${path}: ${message}; pass --restart to start over, or --cursor-file for another file`);
    this.name = 'CursorMismatchError';
  }
}

/** Parses cursor file text; throws CursorFileError naming the first invalid field. */
export function parseCursorText<T>(text: string, schema: z.ZodType<T>, path: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (error) {
    throw new CursorFileError(path, '', `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CursorFileError(path, issue?.path.map(String).join('.') ?? '', issue?.message ?? 'invalid');
}

/** A cursor file: load (null when it does not exist yet) and atomic save (write aside, then rename). */
export class CursorFile<T> {
  constructor(
    readonly path: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  async load(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return parseCursorText(text, this.schema, this.path);
  }

  async save(cursor: T): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    // A crash mid-write leaves the previous cursor intact: readers only ever see a complete file.
    const aside = `${this.path}.${process.pid}.tmp`;
    await writeFile(aside, `${JSON.stringify(cursor, null, 2)}\n`, 'utf8');
    await rename(aside, this.path);
  }
}

/**
 * Default cursor location: the OS temp dir, one file per source and identity (e.g. API key + topic), so two
 * accounts or pipelines on one machine never share a cursor. The identity is hashed: no secret lands in a path.
 */
export function defaultCursorPath(source: 'stripe' | 'segment', identity: string): string {
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return join(tmpdir(), 'persona-stream', `backfill-${source}-${digest}.json`);
}
