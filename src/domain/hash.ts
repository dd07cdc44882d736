/**
 * 32-bit FNV-1a of a string. State keeps these instead of event ids: a number costs nothing next to a
 * 30-character string, and a collision only matters between two events of the same object at the same second.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
