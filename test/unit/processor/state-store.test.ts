import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../../src/processor/state-store.js';

const entity = { profileHash: 7, state: Uint8Array.from([1, 2, 3]) };
const directories: string[] = [];

function directory(): string {
  const path = mkdtempSync(join(tmpdir(), 'persona-stream-store-'));
  directories.push(path);
  return path;
}

/** What a process killed without closing the store leaves behind, as if under another boot of the machine. */
function markOpenedUnderAnotherBoot(path: string): void {
  const stampPath = join(path, 'persona-stream-store.json');
  const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as { bootId: string; clean: boolean };
  writeFileSync(stampPath, JSON.stringify({ bootId: `${stamp.bootId}-before-reboot`, clean: false }));
}

afterEach(() => {
  for (const path of directories.splice(0)) rmSync(path, { recursive: true, force: true });
});

describe('the local state store', () => {
  it('keeps states and the checkpoint written in one transaction', async () => {
    const path = directory();
    const store = new StateStore(path);
    store.write(3, new Map([['user:a', entity]]), { changelogOffset: '42', watermark: 1_000 });
    await store.close();
    const reopened = new StateStore(path);
    expect(reopened.get(3, 'user:a')).toEqual({ profileHash: 7, state: Buffer.from([1, 2, 3]) });
    expect(reopened.checkpoint(3)).toEqual({ changelogOffset: '42', watermark: 1_000 });
    expect([...reopened.entries(3)].map(([key]) => key)).toEqual(['user:a']);
    await reopened.close();
  });

  it('trusts a store left open by a crashed process on the same boot (the OS still holds its commits)', async () => {
    const path = directory();
    const store = new StateStore(path);
    store.write(0, new Map([['user:a', entity]]), { changelogOffset: '1', watermark: 0 });
    // No close(): the process died. Same boot: nothing was lost.
    const wiped: string[] = [];
    const reopened = new StateStore(path, { onWiped: (reason) => wiped.push(reason) });
    expect(wiped).toEqual([]);
    expect(reopened.checkpoint(0)).toEqual({ changelogOffset: '1', watermark: 0 });
    await reopened.close();
    await store.close();
  });

  it('wipes a store left open across a machine restart, so it is rebuilt from the changelog', async () => {
    const path = directory();
    const store = new StateStore(path);
    store.write(0, new Map([['user:a', entity]]), { changelogOffset: '1', watermark: 0 });
    await store.close();
    markOpenedUnderAnotherBoot(path);
    const wiped: string[] = [];
    const reopened = new StateStore(path, { onWiped: (reason) => wiped.push(reason) });
    expect(wiped).toHaveLength(1);
    expect(reopened.checkpoint(0)).toBeUndefined();
    expect(reopened.count(0)).toBe(0);
    await reopened.close();
  });
});
