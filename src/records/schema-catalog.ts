import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { canonicalEventSchema } from './canonical-event.js';
import { deadLetterSchema } from './dead-letter.js';
import { personaRegistryEntrySchema } from './persona-registry.js';
import { personaUpdateSchema } from './persona-update.js';
import { profileRecordSchema } from './profile-record.js';

export interface SchemaCatalogEntry {
  /** The .avsc file, relative to the package root. */
  readonly avscPath: string;
  readonly zodSchema: z.ZodType;
}

/** Every record on the topics, by its full Avro name (the registry's record name). */
export const schemaCatalog = {
  'io.personastream.CanonicalEvent': { avscPath: 'schemas/canonical-event.avsc', zodSchema: canonicalEventSchema },
  'io.personastream.Profile': { avscPath: 'schemas/profile.avsc', zodSchema: profileRecordSchema },
  'io.personastream.PersonaUpdate': { avscPath: 'schemas/persona-update.avsc', zodSchema: personaUpdateSchema },
  'io.personastream.PersonaRegistryEntry': {
    avscPath: 'schemas/persona-registry.avsc',
    zodSchema: personaRegistryEntrySchema,
  },
  'io.personastream.DeadLetter': { avscPath: 'schemas/dead-letter.avsc', zodSchema: deadLetterSchema },
} as const satisfies Readonly<Record<string, SchemaCatalogEntry>>;

export type RecordName = keyof typeof schemaCatalog;

export const recordNames = Object.keys(schemaCatalog) as readonly RecordName[];

export class SchemaFilesNotFoundError extends Error {
  constructor(readonly searchedFrom: string) {
    super(`no directory containing schemas/ and package.json above ${searchedFrom}`);
    this.name = 'SchemaFilesNotFoundError';
  }
}

/**
 * The package root: the nearest directory at or above `startDir` holding both `schemas/` and `package.json`.
 * The default start is this module's directory, so it works from src/records (vitest), dist/src/records (compiled)
 * and an installed package alike.
 */
export function findPackageRoot(startDir: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(startDir);
  for (;;) {
    if (isDirectory(join(dir, 'schemas')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new SchemaFilesNotFoundError(startDir);
    dir = parent;
  }
}

let cachedPackageRoot: string | undefined;

export function avscAbsolutePath(name: RecordName): string {
  cachedPackageRoot ??= findPackageRoot();
  return join(cachedPackageRoot, schemaCatalog[name].avscPath);
}

/** The Avro schema of a record as parsed JSON, ready for avro.Type.forSchema or a schema-registry registration. */
export function readAvroSchema(name: RecordName): unknown {
  return JSON.parse(readFileSync(avscAbsolutePath(name), 'utf8'));
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
