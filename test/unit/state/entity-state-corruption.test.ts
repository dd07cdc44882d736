import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applySegmentMessageToState,
  applyStripeFact,
  createCustomerState,
  createUserState,
  type EntityState,
} from '../../../src/domain/pipeline/pipeline.js';
import { crc32 } from '../../../src/domain/state/crc32.js';
import {
  ENTITY_STATE_FORMAT_VERSION,
  EntityStateDecodeError,
  createEntityStateCodec,
  decodeEntityState,
  encodeEntityState,
  type EntityStateDecodeReason,
} from '../../../src/domain/state/index.js';
import { entityStreams, pipeline } from './entity-streams.js';

/** The richest customer and user of some demo traffic, as records. */
function sampleRecords(): Uint8Array[] {
  const { customers, users } = entityStreams(3, 6, 6, 6);
  const states: EntityState[] = [];
  for (const { id, facts } of customers) {
    const state = createCustomerState(id);
    for (const fact of facts) applyStripeFact(state, fact);
    states.push(state);
  }
  for (const { key, messages } of users) {
    const state = createUserState(key);
    for (const message of messages) applySegmentMessageToState(pipeline, state, message);
    states.push(state);
  }
  const records = states.map((state) => encodeEntityState(state, pipeline));
  const largest = (kind: number) =>
    records.filter((record) => record[1] === kind).sort((a, b) => b.length - a.length)[0]!;
  return [largest(1), largest(2)];
}

function decodeError(bytes: Uint8Array): EntityStateDecodeError {
  try {
    decodeEntityState(bytes, pipeline);
  } catch (error) {
    if (error instanceof EntityStateDecodeError) return error;
    throw new Error(`expected an EntityStateDecodeError, got ${String(error)}`);
  }
  throw new Error('expected the record to be rejected');
}

/** The record with its checksum recomputed: what a bug, not a bit flip, would produce. */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const end = out.length - 4;
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(end, crc32(out, 0, end), true);
  return out;
}

describe('entity state codec: corrupt records', () => {
  const records = sampleRecords();

  it('samples a multi-subscription customer and an active user', () => {
    expect(records.map((record) => record.length).every((length) => length > 150)).toBe(true);
    expect(records.map((record) => decodeEntityState(record, pipeline).kind)).toEqual(['customer', 'user']);
  });

  it('every truncation is rejected', () => {
    for (const record of records) {
      for (let length = 0; length < record.length; length++) {
        const reason = decodeError(record.subarray(0, length)).reason;
        expect(['truncated', 'checksum-mismatch']).toContain(reason);
      }
    }
  });

  it('every single flipped bit is rejected', () => {
    for (const record of records) {
      for (let bit = 0; bit < record.length * 8; bit++) {
        const flipped = record.slice();
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(decodeError(flipped).reason).toBe(bit < 8 ? 'unknown-version' : 'checksum-mismatch');
      }
    }
  });

  it('another format version is named as such', () => {
    for (const version of [0, ENTITY_STATE_FORMAT_VERSION + 1, 255]) {
      const error = decodeError(resealed(Uint8Array.of(version, ...records[0]!.subarray(1))));
      expect(error.reason).toBe('unknown-version');
      expect(error.message).toBe(
        `entity state: unknown-version at version (byte 0): format version ${version}, expected 1`,
      );
    }
  });

  it('random bytes are rejected', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, versioned) => {
        if (versioned && bytes.length > 0) bytes[0] = ENTITY_STATE_FORMAT_VERSION;
        expect(decodeError(bytes)).toBeInstanceOf(EntityStateDecodeError);
      }),
      { numRuns: 2000 },
    );
  });

  it('a record altered and resealed never escapes as another kind of error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
          minLength: 1,
          maxLength: 4,
        }),
        (which, edits) => {
          const bytes = [...records[which]!];
          for (const [position, value, edit] of edits) {
            // Edits stay inside the state (after the header, before the checksum).
            const at = 2 + (position % Math.max(1, bytes.length - 6));
            if (edit === 'set') bytes[at] = value;
            else if (edit === 'insert') bytes.splice(at, 0, value);
            else if (bytes.length > 7) bytes.splice(at, 1);
          }
          const forged = resealed(Uint8Array.from(bytes));
          try {
            decodeEntityState(forged, pipeline);
          } catch (error) {
            expect(error).toBeInstanceOf(EntityStateDecodeError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('names the reason, the field and the offset', () => {
    const state = createCustomerState('cus_x');
    const record = encodeEntityState(state, pipeline);
    // Byte 2 starts customerId: a new 5-byte string is written as (5 + 1) × 2 = 12.
    expect(record[2]).toBe(12);
    const cases: [Uint8Array, EntityStateDecodeReason, string][] = [
      [new Uint8Array(0), 'truncated', 'version'],
      [Uint8Array.of(1, 1, 0), 'truncated', 'header'],
      [resealed(Uint8Array.of(...record.subarray(0, 2), 11, ...record.subarray(3))), 'malformed', 'customerId'],
      [resealed(Uint8Array.of(1, 9, ...record.subarray(2))), 'unknown-kind', 'kind'],
      [resealed(Uint8Array.of(...record.subarray(0, record.length - 4), 0, 0, 0, 0, 0)), 'trailing-bytes', 'state'],
    ];
    for (const [bytes, reason, field] of cases) {
      const error = decodeError(bytes);
      expect([error.reason, error.field]).toEqual([reason, field]);
    }
    expect(decodeError(cases[2]![0]).offset).toBe(2);
  });

  it('decodes a record handed over as a view into a larger buffer, as LMDB and Kafka clients do', () => {
    for (const record of records) {
      const pooled = new Uint8Array(record.length + 13).fill(0xee);
      pooled.set(record, 7);
      const view = pooled.subarray(7, 7 + record.length);
      expect(encodeEntityState(decodeEntityState(view, pipeline), pipeline)).toEqual(record);
    }
  });

  it('the codec object the processor takes rejects through the same error', () => {
    const codec = createEntityStateCodec(pipeline);
    const state = createCustomerState('cus_y');
    expect(codec.decode(codec.encode(state))).toEqual(state);
    expect(() => codec.decode(Uint8Array.of(7))).toThrow(EntityStateDecodeError);
  });
});
