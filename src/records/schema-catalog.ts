import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { findPackageRoot, PackageRootNotFoundError } from '../package-root.js';
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

/** Kept under its old name for callers of the catalog; the root lookup lives in src/package-root.ts. */
export { findPackageRoot, PackageRootNotFoundError as SchemaFilesNotFoundError };

let cachedPackageRoot: string | undefined;

export function avscAbsolutePath(name: RecordName): string {
  cachedPackageRoot ??= findPackageRoot();
  return join(cachedPackageRoot, schemaCatalog[name].avscPath);
}

/** The Avro schema of a record as parsed JSON, ready for avro.Type.forSchema or a schema-registry registration. */
export function readAvroSchema(name: RecordName): unknown {
  return JSON.parse(readFileSync(avscAbsolutePath(name), 'utf8'));
}
