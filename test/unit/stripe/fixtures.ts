import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../../fixtures/stripe/', import.meta.url);

/** A fresh copy of a Stripe JSON fixture (tests may mutate it). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

/** Mutable access into parsed JSON for building invalid variants. */
export function at(value: unknown, ...path: (string | number)[]): Record<string, unknown> {
  let current = value;
  for (const key of path) current = (current as Record<string | number, unknown>)[key];
  return current as Record<string, unknown>;
}
