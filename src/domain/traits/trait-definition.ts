import { z } from 'zod';

/** Property paths are dotted (`company.plan`, `products.0.sku`); a key that itself contains a dot is tried first. */
const propertyPathSchema = z.string().min(1, { error: 'expected a property name or dotted path' });

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

/**
 * A condition on an event property; a definition's `where` list is a conjunction.
 * eq/neq compare strictly (a property holding the string "5" is not equal to the number 5; a missing property is
 * "not equal" to anything); gt/gte/lt/lte compare two numbers or two strings (ISO dates compare as strings);
 * contains: substring of a string property, or element of an array property; in: equal to one of the values.
 */
export const traitConditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ property: propertyPathSchema, op: z.literal('eq'), value: scalarSchema.nullable() }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('neq'), value: scalarSchema.nullable() }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('gt'), value: z.union([z.number(), z.string()]) }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('gte'), value: z.union([z.number(), z.string()]) }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('lt'), value: z.union([z.number(), z.string()]) }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('lte'), value: z.union([z.number(), z.string()]) }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('contains'), value: scalarSchema }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('exists') }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('not_exists') }),
  z.strictObject({ property: propertyPathSchema, op: z.literal('in'), value: z.array(scalarSchema.nullable()).min(1) }),
]);

export type TraitCondition = z.output<typeof traitConditionSchema>;

/** Output keys the evaluator always writes itself. */
export const RESERVED_TRAIT_KEYS: readonly string[] = ['first_seen_at', 'last_seen_at'];

const keySchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/, { error: 'expected 1–100 letters, digits, "_", "." or "-"' })
  .refine((key) => !RESERVED_TRAIT_KEYS.includes(key), { error: 'first_seen_at and last_seen_at are always computed' })
  .refine((key) => key !== '__proto__', { error: '"__proto__" cannot be a trait key' });

const base = {
  key: keySchema,
  /** An identify trait under the same key (Engage / Profile API backfill) overrides the computed value. */
  prefer_identify: z.boolean().default(false),
};

/** Which calls an event-based trait reads: track events by `event`, page/screen calls by `name`. */
const eventSelector = {
  message_type: z.enum(['track', 'page', 'screen']).default('track'),
  /** Exact event (or page/screen) name; absent = every call of `message_type`. */
  event: z.string().min(1).optional(),
  where: z.array(traitConditionSchema).default([]),
  /** Rolling window in whole UTC days: the evaluation day and the N−1 before it. Absent = all time. */
  within_days: z.int().min(1).max(3650).optional(),
};

export const traitDefinitionSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('count'), ...eventSelector }),
  z.strictObject({ ...base, type: z.literal('sum'), ...eventSelector, property: propertyPathSchema }),
  z.strictObject({ ...base, type: z.literal('avg'), ...eventSelector, property: propertyPathSchema }),
  z.strictObject({ ...base, type: z.literal('min'), ...eventSelector, property: propertyPathSchema }),
  z.strictObject({ ...base, type: z.literal('max'), ...eventSelector, property: propertyPathSchema }),
  /** Without `property`, first/last yield the event time (epoch ms) of the first/last matching call. */
  z.strictObject({ ...base, type: z.literal('first'), ...eventSelector, property: propertyPathSchema.optional() }),
  z.strictObject({ ...base, type: z.literal('last'), ...eventSelector, property: propertyPathSchema.optional() }),
  z.strictObject({ ...base, type: z.literal('most_frequent'), ...eventSelector, property: propertyPathSchema }),
  z.strictObject({ ...base, type: z.literal('unique_list'), ...eventSelector, property: propertyPathSchema }),
  z.strictObject({ ...base, type: z.literal('unique_count'), ...eventSelector, property: propertyPathSchema }),
  z.strictObject({
    ...base,
    type: z.literal('identify'),
    /** Identify trait to copy; a list is a fallback chain (first path holding a non-null value wins). */
    trait: z.union([propertyPathSchema, z.array(propertyPathSchema).min(1)]),
  }),
  z.strictObject({ ...base, type: z.literal('churn_risk') }),
  z.strictObject({ ...base, type: z.literal('engagement_tier') }),
]);

export type TraitDefinition = z.output<typeof traitDefinitionSchema>;
export type TraitDefinitionInput = z.input<typeof traitDefinitionSchema>;
export type TraitType = TraitDefinition['type'];
export type EventTraitDefinition = Extract<TraitDefinition, { message_type: unknown }>;

/** A list of definitions with unique keys. */
export const traitDefinitionsSchema = z.array(traitDefinitionSchema).superRefine((definitions, ctx) => {
  const seen = new Set<string>();
  definitions.forEach((definition, index) => {
    if (seen.has(definition.key)) {
      ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `duplicate trait key "${definition.key}"` });
    }
    seen.add(definition.key);
  });
});

export const DEFAULT_LATENESS_DAYS = 7;

/** How late (in days behind the watermark) an event may arrive and still be deduplicated and placed in its window. */
export const latenessDaysSchema = z.int().min(0).max(365).default(DEFAULT_LATENESS_DAYS);
