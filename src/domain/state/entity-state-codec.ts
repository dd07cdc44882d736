import type { EntityState, Pipeline } from '../pipeline/pipeline.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { crc32 } from './crc32.js';
import { readCustomerState, writeCustomerState } from './customer-state-codec.js';
import { EntityStateDecodeError } from './entity-state-errors.js';
import { readUserState, writeUserState } from './user-state-codec.js';
import { CHECKSUM_BYTES, FORMAT_VERSION, HEADER_BYTES, KIND_CUSTOMER, KIND_USER } from './wire-format.js';

/**
 * The processor's per-entity state as bytes (local store and compacted changelog), and back, exactly: a decoded
 * state applies further events and derives profiles like the state that was encoded, and encodes to the same
 * bytes. Layout and primitives: wire-format.ts. Deterministic: equal states give equal bytes.
 */
export function encodeEntityState(state: EntityState, pipeline: Pipeline): Uint8Array {
  const writer = new ByteWriter();
  writer.byte(FORMAT_VERSION);
  if (state.kind === 'customer') {
    writer.byte(KIND_CUSTOMER);
    writeCustomerState(writer, state);
  } else {
    writer.byte(KIND_USER);
    writeUserState(writer, state, pipeline.traits);
  }
  writer.int32(crc32(writer.view(), 0, writer.size));
  return writer.finish();
}

/**
 * The state `bytes` hold. Anything else — empty, truncated, another format version, a flipped bit, trailing bytes —
 * throws EntityStateDecodeError with the reason and the field; no other exception escapes.
 */
export function decodeEntityState(bytes: Uint8Array, pipeline: Pipeline): EntityState {
  if (bytes.length === 0) throw new EntityStateDecodeError('truncated', 'version', 0, 'empty record');
  const version = bytes[0] as number;
  if (version !== FORMAT_VERSION) {
    throw new EntityStateDecodeError(
      'unknown-version',
      'version',
      0,
      `format version ${version}, expected ${FORMAT_VERSION}`,
    );
  }
  const end = bytes.length - CHECKSUM_BYTES;
  if (end < HEADER_BYTES) throw new EntityStateDecodeError('truncated', 'header', 0, `${bytes.length} bytes`);
  const stored =
    ((bytes[end] as number) |
      ((bytes[end + 1] as number) << 8) |
      ((bytes[end + 2] as number) << 16) |
      ((bytes[end + 3] as number) << 24)) >>>
    0;
  if (stored !== crc32(bytes, 0, end)) {
    throw new EntityStateDecodeError('checksum-mismatch', 'checksum', end, 'the record was altered or cut short');
  }
  const reader = new ByteReader(bytes, HEADER_BYTES, end);
  const kind = bytes[1] as number;
  let state: EntityState;
  try {
    if (kind === KIND_CUSTOMER) state = readCustomerState(reader);
    else if (kind === KIND_USER) state = readUserState(reader, pipeline.traits);
    else throw new EntityStateDecodeError('unknown-kind', 'kind', 1, `kind ${kind}`);
  } catch (error) {
    if (error instanceof EntityStateDecodeError) throw error;
    // The reads check what they read; anything else escaping them is still a record we cannot restore.
    throw new EntityStateDecodeError(
      'malformed',
      'state',
      reader.offset,
      error instanceof Error ? error.message : String(error),
    );
  }
  if (reader.remaining !== 0) {
    throw new EntityStateDecodeError(
      'trailing-bytes',
      'state',
      reader.offset,
      `${reader.remaining} bytes after the state`,
    );
  }
  return state;
}

/** The pair the processor's EntityStateCodec expects, bound to one pipeline. */
export function createEntityStateCodec(pipeline: Pipeline): {
  encode(state: EntityState): Uint8Array;
  decode(bytes: Uint8Array): EntityState;
} {
  return {
    encode: (state) => encodeEntityState(state, pipeline),
    decode: (bytes) => decodeEntityState(bytes, pipeline),
  };
}
