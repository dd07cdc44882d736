import type { FieldValue } from '../profile/model.js';
import type { JsonValue } from '../segment/model.js';
import { canonicalJson } from './canonical-json.js';

/**
 * A trait value as profiles carry it. Scalars pass through; an array becomes a list of strings (numbers and
 * booleans as text, nulls dropped, nested objects as canonical JSON); an object becomes its canonical JSON text.
 */
export function toFieldValue(value: JsonValue | undefined): FieldValue {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value as readonly JsonValue[]) {
      if (item === null) continue;
      items.push(typeof item === 'string' ? item : typeof item === 'object' ? canonicalJson(item) : String(item));
    }
    return items;
  }
  return canonicalJson(value);
}
