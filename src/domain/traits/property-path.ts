import type { JsonObject, JsonValue } from '../segment/model.js';

/** A property name compiled once: the literal key, plus its dotted segments when it contains a dot. */
export interface PropertyPath {
  readonly text: string;
  readonly segments: readonly string[] | null;
}

export function compilePropertyPath(text: string): PropertyPath {
  return { text, segments: text.includes('.') ? text.split('.') : null };
}

/**
 * The value at `path`, or undefined. A literal key containing the dot wins over the nested reading; array elements
 * are addressed by index (`products.0.sku`). Only own properties count, so `constructor` or `__proto__` never read
 * Object.prototype.
 */
export function readPropertyPath(object: JsonObject, path: PropertyPath): JsonValue | undefined {
  const direct = ownValue(object, path.text);
  if (direct !== undefined || path.segments === null) return direct;
  let current: JsonValue | undefined = object;
  for (const segment of path.segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current)
      ? (current as readonly JsonValue[])[Number(segment)]
      : ownValue(current as JsonObject, segment);
  }
  return current;
}

function ownValue(object: JsonObject, key: string): JsonValue | undefined {
  const value = object[key];
  // Inherited members of Object.prototype are functions or objects; plain data values need no further check.
  if (value !== undefined && typeof value === 'object' && !Object.hasOwn(object, key)) return undefined;
  if (typeof value === 'function') return undefined;
  return value;
}
