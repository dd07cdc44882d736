import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from '../src/package-root.js';

/**
 * `--save`: appends the run's record to bench/results/<YYYY-MM-DD>-<machine>.json, a JSON array of every run saved
 * that day on that machine, so runs can be compared over time. Returns the file's path.
 */
export function appendResult(record: {
  readonly startedAt: string;
  readonly machine: { readonly slug: string };
}): string {
  const directory = join(findPackageRoot(), 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${record.startedAt.slice(0, 10)}-${record.machine.slug}.json`);
  const previous: unknown = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
  if (!Array.isArray(previous)) throw new Error(`${file} does not hold a JSON array of bench results`);
  const records: unknown[] = [...(previous as unknown[]), record];
  writeFileSync(file, `${JSON.stringify(records, null, 2)}\n`);
  return file;
}
