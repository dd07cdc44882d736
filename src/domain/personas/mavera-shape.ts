import type { JsonObject, JsonValue } from '../segment/model.js';
import { formatIssuePath } from '../segments/segment-family.js';
import { canonicalJson } from './canonical-json.js';
import { maveraPersonaPayloadSchema } from './mavera-payload.js';

/**
 * Our defensive limits on what we send to Mavera (its docs state none; the integration pages warn that deeper
 * nesting and longer arrays are rejected). Levels count containers: the payload object is level 1, and each
 * object or array inside another adds one, so `{ a: { b: { c: 1 } } }` and `{ a: [{ c: 1 }] }` are 3 levels.
 */
export const MAX_NESTING_LEVELS = 3;
export const MAX_ARRAY_ITEMS = 100;

export interface PayloadViolation {
  /** e.g. `details.tags`; empty for the payload itself. */
  readonly path: string;
  readonly message: string;
}

function isContainer(value: JsonValue | undefined): value is readonly JsonValue[] | JsonObject {
  return value !== null && typeof value === 'object';
}

function collectShapeViolations(
  value: JsonValue,
  level: number,
  path: (string | number)[],
  out: PayloadViolation[],
): void {
  if (!isContainer(value)) return;
  if (level > MAX_NESTING_LEVELS) {
    out.push({ path: formatIssuePath(path), message: `nested ${level} levels deep (limit ${MAX_NESTING_LEVELS})` });
    return;
  }
  if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    if (items.length > MAX_ARRAY_ITEMS) {
      out.push({ path: formatIssuePath(path), message: `${items.length} items (limit ${MAX_ARRAY_ITEMS})` });
    }
    items.forEach((item, i) => {
      collectShapeViolations(item, level + 1, [...path, i], out);
    });
    return;
  }
  for (const [key, item] of Object.entries(value as JsonObject))
    collectShapeViolations(item, level + 1, [...path, key], out);
}

/** Nesting and array-length violations of `payload`; empty when it is within our limits. */
export function findShapeViolations(payload: JsonValue): PayloadViolation[] {
  const out: PayloadViolation[] = [];
  collectShapeViolations(payload, 1, [], out);
  return out;
}

/** Documented-field violations (types, name 2–100 chars, unknown fields) plus shape violations. */
export function validatePersonaPayload(payload: JsonValue): PayloadViolation[] {
  const result = maveraPersonaPayloadSchema.safeParse(payload);
  const out = result.success
    ? []
    : result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
  return [...out, ...findShapeViolations(payload)];
}

/** Puts a container that is too deep for any level into one string: its canonical JSON, arrays cut to the limit. */
function flattenToText(value: JsonValue): string {
  return canonicalJson(truncateArrays(value));
}

function truncateArrays(value: JsonValue): JsonValue {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) return (value as readonly JsonValue[]).slice(0, MAX_ARRAY_ITEMS).map(truncateArrays);
  return Object.fromEntries(Object.entries(value as JsonObject).map(([key, item]) => [key, truncateArrays(item)]));
}

/** Lifts a too-deep object's leaves into its parent as dotted keys (`a.b.c`); lists inside become text. */
function liftInto(target: Map<string, JsonValue>, prefix: string, value: JsonObject): void {
  for (const [key, item] of Object.entries(value)) {
    const name = `${prefix}.${key}`;
    if (isContainer(item) && !Array.isArray(item)) liftInto(target, name, item as JsonObject);
    else if (!target.has(name)) target.set(name, isContainer(item) ? flattenToText(item) : item);
  }
}

function shapeItem(item: JsonValue, level: number): JsonValue {
  if (!isContainer(item)) return item;
  return level > MAX_NESTING_LEVELS ? flattenToText(item) : shapeContainer(item, level);
}

function shapeContainer(value: readonly JsonValue[] | JsonObject, level: number): JsonValue {
  if (Array.isArray(value)) {
    return (value as readonly JsonValue[]).slice(0, MAX_ARRAY_ITEMS).map((item) => shapeItem(item, level + 1));
  }
  // Entries, not assignments, so a key named `__proto__` stays an ordinary key.
  const out = new Map<string, JsonValue>();
  const lifted = new Map<string, JsonValue>();
  for (const [key, item] of Object.entries(value as JsonObject)) {
    if (isContainer(item) && !Array.isArray(item) && level + 1 > MAX_NESTING_LEVELS) {
      liftInto(lifted, key, item as JsonObject);
    } else {
      out.set(key, shapeItem(item, level + 1));
    }
  }
  // A real key wins over a lifted one of the same dotted name.
  for (const [key, item] of lifted) if (!out.has(key)) out.set(key, item);
  return Object.fromEntries(out);
}

/**
 * Returns a copy of `payload` within our limits, deterministically: arrays keep their first 100 items; an object
 * that would sit deeper than level 3 is flattened into its parent as dotted keys (`{ a: { b: 1 } }` at the limit
 * becomes `{ "a.b": 1 }`); an array that would sit too deep, or an object inside an array at the limit, becomes its
 * canonical JSON text. A payload already within the limits comes back equal.
 */
export function shapeForMavera(payload: JsonObject): JsonObject {
  return shapeContainer(payload, 1) as JsonObject;
}
