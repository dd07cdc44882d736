import { z } from 'zod';
import { conditionSchema } from './condition.js';

const keySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, `_` or `-`, at most 64, not starting with `_` or `-`');
const fieldNameSchema = z.string().min(1).max(200);

/**
 * A numeric field a summary sums and averages. With `default`, a member without the field counts as that
 * value (the seeds' `u.get('ltv', 0)`), so the average is over every member; without it the member is left
 * out of that field's average (average = sum / members having the field).
 * Booleans count as 1/0, so the average of `past_due` is the share of members past due.
 */
export const numericSummaryFieldSchema = z.union([
  fieldNameSchema.transform((field) => ({ field })),
  z.strictObject({ field: fieldNameSchema, default: z.number().optional() }),
]);
export type NumericSummaryField = z.output<typeof numericSummaryFieldSchema>;

export const summarySpecSchema = z.strictObject({
  numeric: z.array(numericSummaryFieldSchema).default([]),
  /** Fields whose values are counted for a top-3 (strings; booleans and numbers as text; each item of a list). */
  categorical: z.array(fieldNameSchema).default([]),
  /** Field whose string value identifies a member in `sampleIds`; by default the profile's entity id. */
  sample_id_field: fieldNameSchema.optional(),
});
export type SummarySpec = z.output<typeof summarySpecSchema>;

export const PERSONA_TEMPLATES = ['revenue_tier', 'cdp_cluster', 'payment_geography', 'generic'] as const;
export type PersonaTemplateName = (typeof PERSONA_TEMPLATES)[number];

export const personaTemplateSchema = z.strictObject({
  template: z.enum(PERSONA_TEMPLATES),
  /** Mavera persona `type`. B2B by default: Stripe customers are businesses, and the seed's Segment users carry industry and plan. */
  type: z.enum(['B2B', 'B2C']).default('B2B'),
  /** `advanced` by default: the payload carries detail fields (industry, key_differentiators) beyond name and description. */
  pipeline_type: z.enum(['north_star', 'intermediate', 'advanced']).default('advanced'),
});
export type PersonaTemplateConfig = z.output<typeof personaTemplateSchema>;

export const segmentSchema = z.strictObject({
  key: keySchema,
  /** Human label; default: the key title-cased with `_` as space, as the seeds do. */
  label: z.string().trim().min(1).max(80).optional(),
  /** Absent: the "otherwise" segment, which must come last. */
  when: conditionSchema.optional(),
});
export type SegmentRule = z.output<typeof segmentSchema>;

/**
 * An ordered list of segments over one profile kind. A profile belongs to the first segment whose `when`
 * holds (the seeds' if/elif chains), so to at most one segment of a family.
 */
export const segmentFamilySchema = z
  .strictObject({
    name: keySchema,
    label: z.string().trim().min(1).max(80).optional(),
    kind: z.enum(['customer', 'user']),
    where: conditionSchema.optional(),
    segments: z.array(segmentSchema).min(1),
    persona: personaTemplateSchema,
    summary: summarySpecSchema.default({ numeric: [], categorical: [] }),
  })
  .superRefine((family, ctx) => {
    const seen = new Set<string>();
    family.segments.forEach((segment, index) => {
      if (seen.has(segment.key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['segments', index, 'key'],
          message: `duplicate segment "${segment.key}"`,
        });
      }
      seen.add(segment.key);
      if (segment.when === undefined && index < family.segments.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['segments', index, 'when'],
          message: 'only the last segment may omit `when`: the segments after it could never match',
        });
      }
    });
  });
export type SegmentFamily = z.output<typeof segmentFamilySchema>;

export const segmentFamiliesSchema = z.array(segmentFamilySchema).superRefine((families, ctx) => {
  const seen = new Set<string>();
  families.forEach((family, index) => {
    if (seen.has(family.name)) {
      ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate segment family "${family.name}"` });
    }
    seen.add(family.name);
  });
});

export interface ConfigIssue {
  /** Where in the input, e.g. `segments[2].when.all[0].op`. */
  readonly path: string;
  readonly message: string;
}

export class InvalidSegmentConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid segment configuration: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`,
    );
    this.name = 'InvalidSegmentConfigError';
  }
}

export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidSegmentConfigError(
    result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
  );
}

/** Parses the `segments` list of the pipeline config; errors name the offending path. */
export function parseSegmentFamilies(input: unknown): SegmentFamily[] {
  return parseOrThrow(segmentFamiliesSchema, input);
}

export function parseSegmentFamily(input: unknown): SegmentFamily {
  return parseOrThrow(segmentFamilySchema, input);
}
