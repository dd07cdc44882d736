import type { JsonObject, JsonValue } from '../../domain/segment/model.js';

const MAX_DEPTH = 64;

/**
 * True when `value` is plain JSON data (what JSON.parse can produce): finite numbers, no undefined, functions,
 * class instances or cycles deeper than MAX_DEPTH. Checked by hand rather than with z.json() because it runs
 * over every property of every message and allocates nothing.
 */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) if (!isJsonValue(item, depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (!isJsonValue(value[key], depth + 1)) return false;
  }
  return true;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return isPlainObject(value) && isJsonValue(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
