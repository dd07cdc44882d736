import type { JsonObject, JsonValue } from '../segment/model.js';
import { compilePropertyPath, readPropertyPath } from './property-path.js';
import type { TraitCondition } from './trait-definition.js';

/** All conditions of a definition's `where`, compiled once into a single test over an event's properties. */
export type PropertiesPredicate = (properties: JsonObject) => boolean;

export function compileWhere(conditions: readonly TraitCondition[]): PropertiesPredicate | null {
  if (conditions.length === 0) return null;
  const tests = conditions.map(compileCondition);
  if (tests.length === 1) return tests[0] ?? null;
  return (properties) => {
    for (const test of tests) if (!test(properties)) return false;
    return true;
  };
}

function compileCondition(condition: TraitCondition): PropertiesPredicate {
  const path = compilePropertyPath(condition.property);
  const read = (properties: JsonObject): JsonValue | undefined => readPropertyPath(properties, path);
  switch (condition.op) {
    case 'exists':
      return (p) => read(p) != null;
    case 'not_exists':
      return (p) => read(p) == null;
    case 'eq': {
      const expected = condition.value;
      return (p) => (read(p) ?? null) === expected;
    }
    case 'neq': {
      const expected = condition.value;
      return (p) => (read(p) ?? null) !== expected;
    }
    case 'in': {
      const allowed = new Set<JsonValue>(condition.value);
      return (p) => {
        const value = read(p) ?? null;
        return (typeof value !== 'object' || value === null) && allowed.has(value);
      };
    }
    case 'contains': {
      const needle = condition.value;
      return (p) => {
        const value = read(p);
        if (typeof value === 'string') return typeof needle === 'string' && value.includes(needle);
        return Array.isArray(value) && (value as readonly JsonValue[]).includes(needle);
      };
    }
    case 'gt':
      return comparison(read, condition.value, (order) => order > 0);
    case 'gte':
      return comparison(read, condition.value, (order) => order >= 0);
    case 'lt':
      return comparison(read, condition.value, (order) => order < 0);
    case 'lte':
      return comparison(read, condition.value, (order) => order <= 0);
  }
}

/** Orders a number against a number, a string against a string; mixed or missing types never match. */
function comparison(
  read: (properties: JsonObject) => JsonValue | undefined,
  bound: number | string,
  accept: (order: number) => boolean,
): PropertiesPredicate {
  return (p) => {
    const value = read(p);
    if (typeof value !== typeof bound) return false;
    const v = value as number | string;
    return accept(v < bound ? -1 : v > bound ? 1 : 0);
  };
}
