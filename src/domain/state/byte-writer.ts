import { EntityStateEncodeError } from './entity-state-errors.js';
import {
  MAX_TAGGED_MAGNITUDE,
  NUMBER_FLOAT,
  NUMBER_INTEGER,
  NUMBER_NULL,
  TIME_ABSOLUTE,
  TIME_MS,
  TIME_NULL,
  TIME_SECONDS,
  zigzag,
} from './wire-format.js';

const FLOAT_SCRATCH = new DataView(new ArrayBuffer(8));
/** Strings of a record are looked up linearly up to this many (most records hold a dozen), by a Map beyond. */
const LINEAR_STRING_LOOKUP = 16;

/**
 * Records are written into one scratch buffer (encoding is synchronous, so one is enough) and copied out into
 * slices of a shared slab: a fresh ArrayBuffer per record of a few hundred bytes costs more than writing it. A slice
 * keeps its slab alive while it is referenced; the processor hands records to LMDB and Kafka and drops them.
 */
let scratch = new Uint8Array(4096);
const SLAB_BYTES = 16 * 1024;
const SLAB_RECORD_LIMIT = 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

function copyOut(bytes: Uint8Array, length: number): Uint8Array {
  if (length > SLAB_RECORD_LIMIT) return bytes.slice(0, length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  out.set(bytes.subarray(0, length));
  // 8-byte aligned, so a caller may view a record through a Float64Array or DataView without surprises.
  slabUsed += (length + 7) & ~7;
  return out;
}

/** Writes the primitives of wire-format.ts; one writer per record, used synchronously. */
export class ByteWriter {
  private bytes = scratch;
  private length = 0;
  private readonly strings: string[] = [];
  private stringIndex: Map<string, number> | null = null;
  private timeBase = 0;

  /** The record, at its exact length. */
  finish(): Uint8Array {
    return copyOut(this.bytes, this.length);
  }

  get size(): number {
    return this.length;
  }

  /** The bytes written so far, without copying (valid until the next write). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  /** LEB128 of a non-negative safe integer. */
  uint(value: number): void {
    this.reserve(8);
    const bytes = this.bytes;
    let length = this.length;
    let rest = value;
    if (rest <= 0xffffffff) {
      while (rest > 0x7f) {
        bytes[length++] = (rest & 0x7f) | 0x80;
        rest >>>= 7;
      }
    } else {
      while (rest > 0x7f) {
        bytes[length++] = (rest % 0x80) | 0x80;
        rest = Math.floor(rest / 0x80);
      }
    }
    bytes[length++] = rest;
    this.length = length;
  }

  /** A count or index that must be a non-negative safe integer. */
  checkedUint(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new EntityStateEncodeError(field, `expected a non-negative integer, got ${value}`);
    }
    this.uint(value);
  }

  /** The low 32 bits, little-endian: a signed or unsigned 32-bit integer (checked by the caller). */
  int32(value: number): void {
    this.reserve(4);
    const bytes = this.bytes;
    const at = this.length;
    bytes[at] = value & 0xff;
    bytes[at + 1] = (value >>> 8) & 0xff;
    bytes[at + 2] = (value >>> 16) & 0xff;
    bytes[at + 3] = (value >>> 24) & 0xff;
    this.length = at + 4;
  }

  float64(value: number): void {
    this.reserve(8);
    FLOAT_SCRATCH.setFloat64(0, value, true);
    for (let i = 0; i < 8; i++) this.bytes[this.length++] = FLOAT_SCRATCH.getUint8(i);
  }

  number(value: number | null): void {
    if (value === null) {
      this.uint(NUMBER_NULL);
    } else if (isTaggable(value)) {
      this.uint(zigzag(value) * 4 + NUMBER_INTEGER);
    } else {
      this.uint(NUMBER_FLOAT);
      this.float64(value);
    }
  }

  /** An instant (or null), relative to the previous instant written. */
  time(value: number | null): void {
    if (value === null) {
      this.uint(TIME_NULL);
      return;
    }
    if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
      const delta = value - this.timeBase;
      if (delta <= MAX_TAGGED_MAGNITUDE && delta >= -MAX_TAGGED_MAGNITUDE) {
        this.timeBase = value;
        if (delta % 1000 === 0) this.uint(zigzag(delta / 1000) * 4 + TIME_SECONDS);
        else this.uint(zigzag(delta) * 4 + TIME_MS);
        return;
      }
    }
    this.uint(TIME_ABSOLUTE);
    this.float64(value);
  }

  /** A string (or null): written once per record, referred to by position afterwards. */
  string(value: string | null): void {
    if (value === null) {
      this.uint(0);
      return;
    }
    const known = this.findString(value);
    if (known >= 0) {
      this.uint(known * 2 + 1);
      return;
    }
    this.addString(value);
    // Optimistically ASCII (ids, codes, emails): one pass, redone in WTF-8 at the first other character.
    const start = this.length;
    const textLength = value.length;
    this.uint((textLength + 1) * 2);
    this.reserve(textLength);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < textLength; i++) {
      const unit = value.charCodeAt(i);
      if (unit >= 0x80) {
        this.length = start;
        const byteLength = wtf8Length(value);
        this.uint((byteLength + 1) * 2);
        this.reserve(byteLength);
        this.length = writeWtf8(value, this.bytes, this.length);
        return;
      }
      bytes[at++] = unit;
    }
    this.length = at;
  }

  private findString(value: string): number {
    const index = this.stringIndex;
    if (index !== null) return index.get(value) ?? -1;
    const strings = this.strings;
    for (let i = 0; i < strings.length; i++) if (strings[i] === value) return i;
    return -1;
  }

  private addString(value: string): void {
    const strings = this.strings;
    if (this.stringIndex !== null) {
      this.stringIndex.set(value, strings.length);
    } else if (strings.length === LINEAR_STRING_LOOKUP) {
      this.stringIndex = new Map(strings.map((text, i) => [text, i]));
      this.stringIndex.set(value, strings.length);
    }
    strings.push(value);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    scratch = grown;
  }
}

function isTaggable(value: number): boolean {
  return (
    Number.isInteger(value) && value <= MAX_TAGGED_MAGNITUDE && value >= -MAX_TAGGED_MAGNITUDE && !Object.is(value, -0)
  );
}

/** Bytes of `text` in WTF-8: UTF-8, with a lone surrogate written as its own 3-byte sequence. */
function wtf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      length += 1;
    } else if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(i + 1))) {
      length += 2;
      i++;
    } else {
      length += 2;
    }
  }
  return length;
}

function writeWtf8(text: string, bytes: Uint8Array, start: number): number {
  let at = start;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      bytes[at++] = unit;
    } else if (unit < 0x800) {
      bytes[at++] = 0xc0 | (unit >> 6);
      bytes[at++] = 0x80 | (unit & 0x3f);
    } else if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(i + 1))) {
      const point = 0x10000 + ((unit - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      bytes[at++] = 0xf0 | (point >> 18);
      bytes[at++] = 0x80 | ((point >> 12) & 0x3f);
      bytes[at++] = 0x80 | ((point >> 6) & 0x3f);
      bytes[at++] = 0x80 | (point & 0x3f);
    } else {
      bytes[at++] = 0xe0 | (unit >> 12);
      bytes[at++] = 0x80 | ((unit >> 6) & 0x3f);
      bytes[at++] = 0x80 | (unit & 0x3f);
    }
  }
  return at;
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
