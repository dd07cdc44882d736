/**
 * 32-bit FNV-1a of a messageId, as a signed int32 so V8 stores it as a small integer. State keeps these instead of
 * the ids: two different messages of the same user on the same UTC day collide with probability ~n²/2³³
 * (n = that day's messages; 1e-8 for n = 10), and a collision drops the later message as a duplicate.
 */
export function hashMessageId(messageId: string): number {
  return fnv1a(messageId, 0x811c9dc5);
}

/** 64 bits of hash as 16 hex chars (two FNV-1a passes with different offsets): short signatures of config text. */
export function shortHash(text: string): string {
  const high = fnv1a(text, 0x811c9dc5) >>> 0;
  const low = fnv1a(text, 0x2f3a9e71) >>> 0;
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

function fnv1a(text: string, offset: number): number {
  let hash = offset | 0;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash;
}
