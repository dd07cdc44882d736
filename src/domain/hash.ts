/**
 * 32-bit FNV-1a of a string, as a signed int32 so V8 keeps it as a small integer rather than a boxed number. State
 * keeps these instead of ids: a number costs nothing next to a 30-character string, and a collision only matters
 * between two events of the same object (or the same user and day).
 */
export function fnv1a32(text: string, offset = 0x811c9dc5): number {
  let hash = offset | 0;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash;
}

/** 64 bits of hash as 16 hex chars (two FNV-1a passes with different offsets): short signatures of config text. */
export function shortHash(text: string): string {
  const high = fnv1a32(text) >>> 0;
  const low = fnv1a32(text, 0x2f3a9e71) >>> 0;
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}
