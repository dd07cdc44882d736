import { z } from 'zod';
import type { FieldValue } from '../profile/model.js';
import { fieldReader, type ProfileFields } from './field-reader.js';

export type Scalar = number | string | boolean;
export type ComparisonOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';
export type PresenceOp = 'exists' | 'not_exists';

/**
 * A rule over a profile's flat fields. `default` stands in for a field that is missing or null
 * (seed 002 treats a missing churn_risk as 0.5). Without a default a missing field makes every
 * comparison false except `neq`, which is true.
 *
 * A list-valued field (a unique-list trait) matches `eq`/`neq` by membership and `in` when any of
 * its items is in the list; ordering operators never match a list.
 */
export type Condition =
  | { readonly field: string; readonly op: ComparisonOp; readonly value: Scalar; readonly default?: Scalar }
  | { readonly field: string; readonly op: 'in'; readonly value: readonly Scalar[]; readonly default?: Scalar }
  | { readonly field: string; readonly op: PresenceOp }
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

export type Predicate = (fields: ProfileFields) => boolean;

const COMPARISON_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;
const ALL_OPS = [...COMPARISON_OPS, 'in', 'exists', 'not_exists'] as const;
const ORDERING_OPS: ReadonlySet<string> = new Set(['gt', 'gte', 'lt', 'lte']);

const scalarSchema = z.union([z.number(), z.string(), z.boolean()]);

/** Every form's keys in one strict object, so an error names the offending key instead of "no union member matched". */
const rawConditionSchema = z.strictObject({
  field: z.string().min(1).optional(),
  op: z.enum(ALL_OPS).optional(),
  value: z.union([scalarSchema, z.array(scalarSchema).min(1)]).optional(),
  default: scalarSchema.optional(),
  get all() {
    return z.array(conditionSchema).min(1).optional();
  },
  get any() {
    return z.array(conditionSchema).min(1).optional();
  },
  get not() {
    return conditionSchema.optional();
  },
});

type RawCondition = z.output<typeof rawConditionSchema>;

function checkRawCondition(raw: RawCondition, ctx: z.RefinementCtx): void {
  const fieldForm =
    raw.field !== undefined || raw.op !== undefined || raw.value !== undefined || raw.default !== undefined;
  const forms = [fieldForm, raw.all !== undefined, raw.any !== undefined, raw.not !== undefined].filter(Boolean).length;
  if (forms === 0) {
    ctx.addIssue({ code: 'custom', message: 'a condition needs `field` and `op`, or one of `all`, `any`, `not`' });
    return;
  }
  if (forms > 1) {
    ctx.addIssue({ code: 'custom', message: 'a condition is exactly one of {field, op, …}, `all`, `any` or `not`' });
    return;
  }
  if (!fieldForm) return;
  if (raw.field === undefined) ctx.addIssue({ code: 'custom', path: ['field'], message: '`field` is required' });
  if (raw.op === undefined) {
    ctx.addIssue({ code: 'custom', path: ['op'], message: '`op` is required' });
    return;
  }
  if (raw.op === 'exists' || raw.op === 'not_exists') {
    if (raw.value !== undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${raw.op}\` takes no value` });
    if (raw.default !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `\`${raw.op}\` takes no default` });
    }
    return;
  }
  if (raw.op === 'in') {
    if (!Array.isArray(raw.value)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: '`in` needs a non-empty list as value' });
    }
    return;
  }
  if (raw.value === undefined || Array.isArray(raw.value)) {
    ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${raw.op}\` needs a single value` });
    return;
  }
  if (ORDERING_OPS.has(raw.op) && typeof raw.value === 'boolean') {
    ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${raw.op}\` compares numbers or strings` });
  }
}

function toCondition(raw: RawCondition): Condition {
  if (raw.all !== undefined) return { all: raw.all };
  if (raw.any !== undefined) return { any: raw.any };
  if (raw.not !== undefined) return { not: raw.not };
  // checkRawCondition guarantees the field form is complete from here on.
  const field = raw.field ?? '';
  const withDefault = raw.default === undefined ? {} : { default: raw.default };
  switch (raw.op) {
    case 'exists':
    case 'not_exists':
      return { field, op: raw.op };
    case 'in':
      return { field, op: 'in', value: Array.isArray(raw.value) ? raw.value : [], ...withDefault };
    case undefined:
    case 'eq':
    case 'neq':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const value = raw.value === undefined || Array.isArray(raw.value) ? '' : raw.value;
      return { field, op: raw.op ?? 'eq', value, ...withDefault };
    }
  }
}

export const conditionSchema: z.ZodType<Condition> = rawConditionSchema
  .superRefine(checkRawCondition)
  .transform(toCondition);

/** The field's value with the condition's default applied; `undefined` when missing and no default. */
function valueReader(field: string, fallback: Scalar | undefined): (fields: ProfileFields) => FieldValue | undefined {
  const read = fieldReader(field);
  if (fallback === undefined) return read;
  return (fields) => {
    const value = read(fields);
    return value === undefined || value === null ? fallback : value;
  };
}

function isList(value: FieldValue | undefined): value is readonly string[] {
  return Array.isArray(value);
}

type Ordering = 'gt' | 'gte' | 'lt' | 'lte';

const ORDERINGS: Readonly<Record<Ordering, <T extends number | string>(value: T, bound: T) => boolean>> = {
  gt: (value, bound) => value > bound,
  gte: (value, bound) => value >= bound,
  lt: (value, bound) => value < bound,
  lte: (value, bound) => value <= bound,
};

/** Numbers compare with numbers and strings with strings (ISO dates order lexically); anything else never matches. */
function compileOrdering(
  read: (fields: ProfileFields) => FieldValue | undefined,
  op: Ordering,
  bound: number | string,
): Predicate {
  const holds = ORDERINGS[op];
  if (typeof bound === 'number') {
    return (fields) => {
      const v = read(fields);
      return typeof v === 'number' && holds(v, bound);
    };
  }
  return (fields) => {
    const v = read(fields);
    return typeof v === 'string' && holds(v, bound);
  };
}

function compileEquals(read: (fields: ProfileFields) => FieldValue | undefined, expected: Scalar): Predicate {
  return (fields) => {
    const v = read(fields);
    if (isList(v)) return typeof expected === 'string' && v.includes(expected);
    return v === expected;
  };
}

function compileIn(read: (fields: ProfileFields) => FieldValue | undefined, values: readonly Scalar[]): Predicate {
  const allowed: ReadonlySet<Scalar> = new Set(values);
  return (fields) => {
    const v = read(fields);
    if (v === undefined || v === null) return false;
    if (isList(v)) return v.some((item) => allowed.has(item));
    return allowed.has(v);
  };
}

/** Turns a parsed condition into a closure once, so evaluating a profile does no interpretation. */
export function compileCondition(condition: Condition): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map(compileCondition);
    if (parts.length === 1 && parts[0] !== undefined) return parts[0];
    return (fields) => parts.every((part) => part(fields));
  }
  if ('any' in condition) {
    const parts = condition.any.map(compileCondition);
    if (parts.length === 1 && parts[0] !== undefined) return parts[0];
    return (fields) => parts.some((part) => part(fields));
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not);
    return (fields) => !inner(fields);
  }
  switch (condition.op) {
    case 'exists': {
      const read = fieldReader(condition.field);
      return (fields) => {
        const v = read(fields);
        return v !== undefined && v !== null;
      };
    }
    case 'not_exists': {
      const read = fieldReader(condition.field);
      return (fields) => {
        const v = read(fields);
        return v === undefined || v === null;
      };
    }
    case 'in':
      return compileIn(valueReader(condition.field, condition.default), condition.value);
    case 'eq':
      return compileEquals(valueReader(condition.field, condition.default), condition.value);
    case 'neq': {
      const equals = compileEquals(valueReader(condition.field, condition.default), condition.value);
      return (fields) => !equals(fields);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const read = valueReader(condition.field, condition.default);
      const bound = condition.value;
      // The schema rejects boolean bounds; a boolean here could only come from a hand-built condition.
      if (typeof bound === 'boolean') return () => false;
      return compileOrdering(read, condition.op, bound);
    }
  }
}
