/**
 * Why a byte string is not an entity state. `checksum-mismatch` covers bit flips and truncation inside the record;
 * `malformed` means the checksum held but the content breaks the format (an encoder bug, or a forged record).
 */
export type EntityStateDecodeReason =
  'truncated' | 'unknown-version' | 'checksum-mismatch' | 'unknown-kind' | 'malformed' | 'trailing-bytes';

export class EntityStateDecodeError extends Error {
  constructor(
    readonly reason: EntityStateDecodeReason,
    /** The field being read when decoding failed (`subscription.version.body`, `traits["buckets"]`, …). */
    readonly field: string,
    /** Byte offset in the record at which the field starts. */
    readonly offset: number,
    detail: string,
  ) {
    super(`entity state: ${reason} at ${field} (byte ${offset}): ${detail}`);
    this.name = 'EntityStateDecodeError';
  }
}

/**
 * A state that breaks the reducer's invariants (a hash that is not 32 bits, a packed body of the wrong length):
 * encoding it faithfully is impossible, so it is refused rather than written as a different state.
 */
export class EntityStateEncodeError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`entity state cannot be encoded: ${field}: ${detail}`);
    this.name = 'EntityStateEncodeError';
  }
}
