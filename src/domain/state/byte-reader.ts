import { isHighSurrogate, isLowSurrogate } from './byte-writer.js';
import { EntityStateDecodeError, type EntityStateDecodeReason } from './entity-state-errors.js';
import {
  MAX_TAGGED_MAGNITUDE,
  NUMBER_FLOAT,
  NUMBER_INTEGER,
  NUMBER_NULL,
  TIME_ABSOLUTE,
  TIME_MS,
  TIME_NULL,
  TIME_SECONDS,
  unzigzag,
} from './wire-format.js';

const FLOAT_SCRATCH = new DataView(new ArrayBuffer(8));
const MAX_UINT_BYTES = 8;

/**
 * Reads the primitives of wire-format.ts from `bytes[offset, end)`. Every read checks what it reads (bounds, ranges,
 * the canonical form the writer produces) and throws EntityStateDecodeError naming the field otherwise.
 */
export class ByteReader {
  private readonly strings: string[] = [];
  private timeBase = 0;

  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
    private readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.offset;
  }

  fail(reason: EntityStateDecodeReason, field: string, detail: string, at = this.offset): never {
    throw new EntityStateDecodeError(reason, field, at, detail);
  }

  byte(field: string): number {
    if (this.offset >= this.end) this.fail('truncated', field, 'record ends early');
    return this.bytes[this.offset++] as number;
  }

  uint(field: string): number {
    const start = this.offset;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_UINT_BYTES; i++) {
      if (this.offset >= this.end) this.fail('truncated', field, 'record ends inside a number', start);
      const byte = this.bytes[this.offset++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) this.fail('malformed', field, 'non-canonical varint', start);
        if (!Number.isSafeInteger(value)) this.fail('malformed', field, 'varint beyond 2^53', start);
        return value;
      }
      scale *= 0x80;
    }
    return this.fail('malformed', field, 'varint longer than 8 bytes', start);
  }

  /** A uint no larger than `max`. */
  boundedUint(field: string, max: number): number {
    const start = this.offset;
    const value = this.uint(field);
    if (value > max) this.fail('malformed', field, `${value} is more than ${max}`, start);
    return value;
  }

  /** An element count: each element takes at least `minBytes`, so a count beyond the remaining bytes is corrupt. */
  count(field: string, minBytes = 1): number {
    const start = this.offset;
    const value = this.uint(field);
    if (value * minBytes > this.remaining) {
      this.fail('malformed', field, `${value} elements cannot fit in ${this.remaining} bytes`, start);
    }
    return value;
  }

  int32(field: string): number {
    if (this.offset + 4 > this.end) this.fail('truncated', field, 'record ends inside a 32-bit value');
    const bytes = this.bytes;
    const at = this.offset;
    this.offset = at + 4;
    return (
      (bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)
    );
  }

  uint32(field: string): number {
    return this.int32(field) >>> 0;
  }

  float64(field: string): number {
    if (this.offset + 8 > this.end) this.fail('truncated', field, 'record ends inside a float');
    for (let i = 0; i < 8; i++) FLOAT_SCRATCH.setUint8(i, this.bytes[this.offset++] as number);
    return FLOAT_SCRATCH.getFloat64(0, true);
  }

  number(field: string): number | null {
    const start = this.offset;
    const word = this.uint(field);
    const tag = word % 4;
    if (tag === NUMBER_INTEGER) {
      const value = unzigzag(word / 4);
      if (Math.abs(value) > MAX_TAGGED_MAGNITUDE)
        this.fail('malformed', field, 'an integer beyond 2^50 not written as a float', start);
      return value;
    }
    if (tag === NUMBER_NULL && word === NUMBER_NULL) return null;
    if (tag === NUMBER_FLOAT && word === NUMBER_FLOAT) {
      const value = this.float64(field);
      if (Number.isInteger(value) && Math.abs(value) <= MAX_TAGGED_MAGNITUDE && !Object.is(value, -0)) {
        this.fail('malformed', field, 'an integer written as a float', start);
      }
      return value;
    }
    return this.fail('malformed', field, `unknown number tag in ${word}`, start);
  }

  requiredNumber(field: string): number {
    const start = this.offset;
    const value = this.number(field);
    return value ?? this.fail('malformed', field, 'null where a number is required', start);
  }

  time(field: string): number | null {
    const start = this.offset;
    const word = this.uint(field);
    const tag = word % 4;
    if (tag === TIME_NULL) {
      if (word !== TIME_NULL) this.fail('malformed', field, `unknown time tag in ${word}`, start);
      return null;
    }
    if (tag === TIME_ABSOLUTE) {
      if (word !== TIME_ABSOLUTE) this.fail('malformed', field, `unknown time tag in ${word}`, start);
      const value = this.float64(field);
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
        const delta = value - this.timeBase;
        if (Math.abs(delta) <= MAX_TAGGED_MAGNITUDE)
          this.fail('malformed', field, 'a near instant written in full', start);
      }
      return value;
    }
    const magnitude = unzigzag((word - tag) / 4);
    if (tag === TIME_MS && magnitude % 1000 === 0) this.fail('malformed', field, 'whole seconds written as ms', start);
    const delta = tag === TIME_SECONDS ? magnitude * 1000 : magnitude;
    const value = this.timeBase + delta;
    if (Math.abs(delta) > MAX_TAGGED_MAGNITUDE || !Number.isSafeInteger(value)) {
      this.fail('malformed', field, 'instant out of range', start);
    }
    this.timeBase = value;
    return value;
  }

  requiredTime(field: string): number {
    const start = this.offset;
    const value = this.time(field);
    return value ?? this.fail('malformed', field, 'null where an instant is required', start);
  }

  string(field: string): string | null {
    const start = this.offset;
    const word = this.uint(field);
    if (word === 0) return null;
    if (word % 2 === 1) {
      const known = this.strings[(word - 1) / 2];
      return (
        known ?? this.fail('malformed', field, `reference to string ${(word - 1) / 2} of ${this.strings.length}`, start)
      );
    }
    const byteLength = word / 2 - 1;
    if (byteLength > this.remaining) this.fail('truncated', field, 'record ends inside a string', start);
    const text = decodeWtf8(this.bytes, this.offset, this.offset + byteLength);
    if (text === null) this.fail('malformed', field, 'invalid WTF-8', start);
    this.offset += byteLength;
    this.strings.push(text);
    return text;
  }

  requiredString(field: string): string {
    const start = this.offset;
    const value = this.string(field);
    return value ?? this.fail('malformed', field, 'null where a string is required', start);
  }
}

/**
 * Short ASCII strings repeat across records (trait keys, identify paths, plans, codes): a direct-mapped cache,
 * content-addressed like codes.ts, gives decoded states one shared instance and skips building it again.
 */
const CACHED_STRING_BYTES = 24;
const STRING_CACHE_SLOTS = 4096;
const stringCache: (string | undefined)[] = new Array<string | undefined>(STRING_CACHE_SLOTS).fill(undefined);

/** The string in `bytes[start, end)` (WTF-8), or null when the bytes are not what writeWtf8 produces. */
function decodeWtf8(bytes: Uint8Array, start: number, end: number): string | null {
  const length = end - start;
  if (length <= CACHED_STRING_BYTES) {
    let hash = 0x811c9dc5;
    let ascii = true;
    for (let i = start; i < end; i++) {
      const byte = bytes[i] as number;
      if (byte >= 0x80) {
        ascii = false;
        break;
      }
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    if (ascii) {
      const slot = (hash >>> 0) % STRING_CACHE_SLOTS;
      const cached = stringCache[slot];
      if (cached !== undefined && sameAscii(cached, bytes, start, end)) return cached;
      const text = asciiString(bytes, start, end);
      stringCache[slot] = text;
      return text;
    }
  } else if (isAscii(bytes, start, end)) {
    return asciiString(bytes, start, end);
  }
  return decodeNonAscii(bytes, start, end);
}

function sameAscii(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = start; i < end; i++) if (text.charCodeAt(i - start) !== bytes[i]) return false;
  return true;
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

const CHUNK = 4096;

function asciiString(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let at = start; at < end; at += CHUNK) {
    // apply takes any array-like; a typed array saves copying the bytes into a number[] first.
    text += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + CHUNK)) as unknown as number[]);
  }
  return text;
}

function decodeNonAscii(bytes: Uint8Array, start: number, end: number): string | null {
  const units: number[] = [];
  let text = '';
  for (let i = start; i < end;) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      units.push(lead);
      i++;
    } else if (lead >= 0xc2 && lead < 0xe0) {
      const b1 = continuation(bytes, i + 1, end);
      if (b1 < 0) return null;
      units.push(((lead & 0x1f) << 6) | b1);
      i += 2;
    } else if (lead >= 0xe0 && lead < 0xf0) {
      const b1 = continuation(bytes, i + 1, end);
      const b2 = continuation(bytes, i + 2, end);
      if (b1 < 0 || b2 < 0) return null;
      const unit = ((lead & 0x0f) << 12) | (b1 << 6) | b2;
      if (unit < 0x800) return null;
      // A surrogate pair is always written as one 4-byte sequence, never as two 3-byte ones.
      if (isLowSurrogate(unit) && units.length > 0 && isHighSurrogate(units[units.length - 1] as number)) return null;
      units.push(unit);
      i += 3;
    } else if (lead >= 0xf0 && lead < 0xf5) {
      const b1 = continuation(bytes, i + 1, end);
      const b2 = continuation(bytes, i + 2, end);
      const b3 = continuation(bytes, i + 3, end);
      if (b1 < 0 || b2 < 0 || b3 < 0) return null;
      const point = ((lead & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
      if (point < 0x10000 || point > 0x10ffff) return null;
      units.push(0xd800 + ((point - 0x10000) >> 10), 0xdc00 + ((point - 0x10000) & 0x3ff));
      i += 4;
    } else {
      return null;
    }
    if (units.length >= CHUNK) {
      text += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return text + String.fromCharCode.apply(null, units);
}

function continuation(bytes: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  const byte = bytes[at] as number;
  return (byte & 0xc0) === 0x80 ? byte & 0x3f : -1;
}
