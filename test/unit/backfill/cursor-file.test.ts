import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CursorFile,
  CursorFileError,
  defaultCursorPath,
  segmentCursorSchema,
  stripeCursorSchema,
  type StripeCursor,
} from '../../../src/backfill/cursor-file.js';

describe('CursorFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cursor-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cursor: StripeCursor = {
    version: 1,
    source: 'stripe',
    objects: {
      types: ['customers', 'payment_methods'],
      since: null,
      started_at: 1_767_225_600,
      finished_at: null,
      walks: { customers: { done: false, starting_after: 'cus_042' } },
    },
    events: { published_through: 1_767_000_000, run: null },
  };

  it('loads null before the first save, then exactly what was saved, leaving no temporary file', async () => {
    const file = new CursorFile(join(dir, 'nested', 'stripe.json'), stripeCursorSchema);
    expect(await file.load()).toBeNull();
    await file.save(cursor);
    expect(await file.load()).toEqual(cursor);
    expect(await readdir(join(dir, 'nested'))).toEqual(['stripe.json']);
    expect(JSON.parse(await readFile(file.path, 'utf8'))).toEqual(cursor);
  });

  it('refuses a file with an invalid field, naming it', async () => {
    const path = join(dir, 'bad.json');
    const bad = {
      ...cursor,
      objects: { ...cursor.objects, walks: { customers: { done: false, starting_after: '' } } },
    };
    await writeFile(path, JSON.stringify(bad));
    const error = await new CursorFile(path, stripeCursorSchema).load().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CursorFileError);
    expect(error).toMatchObject({ path, field: 'objects.walks.customers.starting_after' });
  });

  it('refuses a file that is not JSON, or is the other source’s cursor', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"version":1,');
    await expect(new CursorFile(path, stripeCursorSchema).load()).rejects.toThrow(/broken\.json: not JSON/);
    await writeFile(path, JSON.stringify(cursor));
    await expect(new CursorFile(path, segmentCursorSchema).load()).rejects.toMatchObject({ field: 'source' });
  });
});

describe('defaultCursorPath', () => {
  it('is one file per source and identity under the temp dir, without the identity in it', () => {
    const path = defaultCursorPath('stripe', 'sk_test_secret\npersona-stream.stripe.events');
    expect(path.startsWith(join(tmpdir(), 'persona-stream'))).toBe(true);
    expect(path).toMatch(/backfill-stripe-[0-9a-f]{12}\.json$/);
    expect(path).not.toContain('secret');
    expect(defaultCursorPath('stripe', 'sk_test_other\npersona-stream.stripe.events')).not.toBe(path);
    expect(defaultCursorPath('segment', 'spa_1\nx')).toMatch(/backfill-segment-[0-9a-f]{12}\.json$/);
  });
});
