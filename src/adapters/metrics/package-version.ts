import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { findPackageRoot } from '../../package-root.js';

/** package.json cannot be read or has no usable `version`; `field` is the zod issue path, when there is one. */
export class PackageManifestError extends Error {
  constructor(
    readonly path: string,
    readonly field: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the package version from ${path}${field === undefined ? '' : ` (field ${field})`}`, options);
    this.name = 'PackageManifestError';
  }
}

const manifestSchema = z.object({ version: z.string().min(1) });

/** The running package's version (build_info), read from its package.json. */
export function packageVersion(packageRoot: string = findPackageRoot()): string {
  const path = join(packageRoot, 'package.json');
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PackageManifestError(path, undefined, { cause: error });
  }
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) throw new PackageManifestError(path, parsed.error.issues[0]?.path.join('.') ?? 'version');
  return parsed.data.version;
}
