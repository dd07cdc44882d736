import { createHash } from 'node:crypto';

/**
 * The users to backfill, from `--users FILE|-`: one user id per line; surrounding whitespace, blank lines and `#`
 * comments are ignored, and a repeated id is kept once (first position), so a list exported with duplicates does
 * not cost extra Profile API calls.
 */
export function parseUserList(text: string): string[] {
  const seen = new Set<string>();
  const ids: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const id = line.trim();
    if (id === '' || id.startsWith('#') || seen.has(id)) continue;
    seen.add(id);
    ids.push(id);
  }
  return ids;
}

/** Identifies a user list in the cursor file: a resumed run must walk the same list. */
export function userListHash(ids: readonly string[]): string {
  return createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32);
}
