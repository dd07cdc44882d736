import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  avscAbsolutePath,
  findPackageRoot,
  readAvroSchema,
  recordNames,
  SchemaFilesNotFoundError,
} from '../../../src/records/schema-catalog.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

describe('locating schemas/', () => {
  it('finds the repository root from the module (the src layout)', () => {
    for (const name of recordNames) {
      expect(avscAbsolutePath(name).startsWith(`${repoRoot}/schemas/`)).toBe(true);
      expect(existsSync(avscAbsolutePath(name))).toBe(true);
    }
    expect((readAvroSchema('io.personastream.DeadLetter') as { name: string }).name).toBe('DeadLetter');
  });

  it('walks up from the compiled layout dist/src/records to the same root', () => {
    expect(findPackageRoot(join(repoRoot, 'dist', 'src', 'records'))).toBe(repoRoot);
  });

  it('skips a schemas/ directory that has no package.json beside it', () => {
    const root = mkdtempSync(join(tmpdir(), 'persona-stream-schemas-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'schemas'));
    mkdirSync(join(root, 'pkg', 'schemas'), { recursive: true });
    mkdirSync(join(root, 'pkg', 'dist', 'src', 'records'), { recursive: true });
    try {
      expect(findPackageRoot(join(root, 'pkg', 'dist', 'src', 'records'))).toBe(root);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it('throws SchemaFilesNotFoundError when no package root exists above the start', () => {
    const lonely = mkdtempSync(join(tmpdir(), 'persona-stream-none-'));
    // The temp dir's ancestors (/tmp, /) hold no package.json with schemas/ on a normal machine.
    try {
      expect(() => findPackageRoot(lonely)).toThrow(SchemaFilesNotFoundError);
    } finally {
      rmSync(lonely, { recursive: true });
    }
  });
});
