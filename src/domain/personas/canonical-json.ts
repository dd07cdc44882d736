import { createHash } from 'node:crypto';
import type { JsonValue } from '../segment/model.js';

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * JSON with every object's keys sorted (code-unit order) at every depth, no whitespace: equal values give equal
 * text whatever order their keys were built in. Properties holding `undefined` are left out, as JSON.stringify does.
 */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    return `[${items.map((item) => canonicalJson(item)).join(',')}]`;
  }
  const object = value as { readonly [key: string]: JsonValue | undefined };
  const parts: string[] = [];
  for (const key of Object.keys(object).sort(compareKeys)) {
    const item = object[key];
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/** sha256 (hex) of the canonical JSON: the persona registry's "last sent" fingerprint. */
export function contentHash(payload: JsonValue): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}
