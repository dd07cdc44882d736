import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export class PackageRootNotFoundError extends Error {
  constructor(readonly searchedFrom: string) {
    super(`no directory containing schemas/ and package.json above ${searchedFrom}`);
    this.name = 'PackageRootNotFoundError';
  }
}

/**
 * The package root: the nearest directory at or above `startDir` holding both `schemas/` and `package.json`, where
 * the files the code reads at run time live (Avro schemas, the local broker's C source). The default start is this
 * module's directory, so it works from src (vitest), dist/src (compiled) and an installed package alike.
 */
export function findPackageRoot(startDir: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(startDir);
  for (;;) {
    if (isDirectory(join(dir, 'schemas')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new PackageRootNotFoundError(startDir);
    dir = parent;
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
