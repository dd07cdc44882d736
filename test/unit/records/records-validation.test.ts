import { describe, expect, it } from 'vitest';
import { canonicalEventSchema } from '../../../src/records/canonical-event.js';
import { decodeDeadLetterValue, deadLetterSchema, encodeDeadLetterValue } from '../../../src/records/dead-letter.js';
import { personaUpdateSchema } from '../../../src/records/persona-update.js';
import { parseRecord, RecordValidationError } from '../../../src/records/record-validation.js';

const event = {
  event_id: 'evt_1',
  source: 'segment',
  type: 'track',
  entity_key: 'user-42',
  occurred_at: 1_740_000_000_000,
  received_at: 1_740_000_000_250,
  payload: '{"type":"track","event":"Signed Up"}',
  schema_version: 1,
};

describe('parseRecord', () => {
  it('returns the typed record when valid', () => {
    expect(parseRecord('CanonicalEvent', canonicalEventSchema, event)).toEqual(event);
  });

  it('throws a RecordValidationError naming every invalid field', () => {
    const bad = { ...event, source: 'hubspot', occurred_at: 1.5, entity_key: '' };
    let caught: unknown;
    try {
      parseRecord('CanonicalEvent', canonicalEventSchema, bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RecordValidationError);
    const error = caught as RecordValidationError;
    expect(error.recordName).toBe('CanonicalEvent');
    expect(error.issues.map((issue) => issue.path)).toEqual(['source', 'entity_key', 'occurred_at']);
    expect(error.message).toMatch(/^invalid CanonicalEvent: source: .+; entity_key: .+; occurred_at: .+$/);
  });

  it('rejects a persona update whose segment_key disagrees with family and segment', () => {
    const update = {
      segment_key: 'revenue_tier/smb',
      family: 'revenue_tier',
      segment: 'enterprise',
      operation: 'none',
      status: 'dry_run',
      content_hash: 'h',
      attempt: 0,
      at: 1,
      reasons: [],
    };
    expect(() => parseRecord('PersonaUpdate', personaUpdateSchema, update)).toThrow(
      'invalid PersonaUpdate: segment_key: must equal family + "/" + segment',
    );
    expect(
      parseRecord('PersonaUpdate', personaUpdateSchema, { ...update, segment_key: 'revenue_tier/enterprise' }),
    ).toMatchObject({ persona_id: null, http_status: null, latency_ms: null, error: null, request_body: null });
  });
});

describe('dead-letter value', () => {
  it('carries arbitrary bytes (Avro framing, invalid UTF-8) as base64 and back', () => {
    const original = new Uint8Array([0, 0, 0, 0, 3, 0xc3, 0x28, 0xff]);
    const encoded = encodeDeadLetterValue(original);
    expect(encoded).toBe('AAAAAAPDKP8=');
    expect([...decodeDeadLetterValue(encoded)!]).toEqual([...original]);
  });

  it('encodes only the view of a larger buffer, not the whole backing store', () => {
    const backing = Buffer.from('xxhello-worldyy');
    expect(encodeDeadLetterValue(backing.subarray(2, 13))).toBe(Buffer.from('hello-world').toString('base64'));
  });

  it('keeps a tombstone as null', () => {
    expect(encodeDeadLetterValue(null)).toBeNull();
    expect(decodeDeadLetterValue(null)).toBeNull();
  });

  it('rejects a value that is not base64 and an offset that is not decimal', () => {
    const result = deadLetterSchema.safeParse({
      topic: 't',
      partition: 0,
      offset: '-1',
      reason: 'r',
      error_code: 'invalid_payload',
      value: 'not base64!',
      at: 0,
    });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['offset', 'value']);
  });
});
