import { internCode } from '../codes.js';
import { EMPTY } from '../revenue/exact-arrays.js';
import {
  MAX_BODY_OFFSET,
  TRUNCATED_UNIT,
  VERSION_STRIDE,
  bodiesStart,
  isTruncated,
  versionAt,
  versionBodyOffset,
  versionCount,
  versionOrder,
  versionWord,
  type SubscriptionHistory,
} from '../revenue/customer-state.js';
import { bodyOffsets } from '../revenue/subscription-body.js';
import type { Price } from '../stripe/model.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { EntityStateEncodeError } from './entity-state-errors.js';
import { readPrice, writePrice } from './price-codec.js';

/**
 * Subscription histories are written as they are held: refs in their order (a body's words point at them by
 * position, and later snapshots are interned against them), bodies in their order, versions as (at, body number, rank,
 * event-id hash): held, a version points at its body's offset in the subscription's body words; written, at the
 * body's number, so the format does not depend on how bodies are laid out in memory. Packed words are split into their parts, which are small numbers, and put back together on read.
 */

const REF_STRING = 0;
const REF_IDS = 1;
const REF_PRICE = 2;

/** Layout constants of subscription-body.ts (format version 1 depends on them). */
const REF_UNIT = 2 ** 16;
const ORDER_RANK_UNIT = 2 ** 32;
const MAX_RANK = 2;
const HEAD_PRESENCE_UNIT = 32;
const HEAD_ITEMS_UNIT = 512;
const OPTIONAL_INSTANTS = 4;
const FIXED_WORDS = 3;
const EMPTY_IDS: readonly string[] = EMPTY;

export function writeSubscriptionHistory(writer: ByteWriter, history: SubscriptionHistory): void {
  const words = history.words;
  const refs = history.refs;
  const count = versionCount(history);
  const start = bodiesStart(history);
  if (!Number.isSafeInteger(count) || count < 0 || (words.length > 0 && start > words.length)) {
    throw new EntityStateEncodeError('subscription.versions', `${String(count)} versions in ${words.length} words`);
  }
  writer.string(history.id);
  writer.uint(count * 2 + (isTruncated(history) ? 1 : 0));
  writer.uint(refs.length);
  for (const ref of refs) writeRef(writer, ref);
  const offsets = words.length === 0 ? [] : bodyOffsets(words, start);
  if (offsets === null) {
    throw new EntityStateEncodeError(
      'subscription.body',
      `${words.length - start} words do not split into whole bodies`,
    );
  }
  writer.uint(offsets.length);
  for (const offset of offsets) writeBody(writer, words, start + offset, refs.length);
  for (let i = 0; i < count; i++) {
    const order = versionOrder(history, i);
    const body = offsets.indexOf(versionBodyOffset(history, i));
    const rank = Math.floor(order / ORDER_RANK_UNIT);
    if (!Number.isSafeInteger(order) || order < 0 || rank > MAX_RANK) {
      throw new EntityStateEncodeError('subscription.version.order', `not rank × 2³² + 32-bit hash: ${order}`);
    }
    if (body < 0) {
      throw new EntityStateEncodeError('subscription.version.body', `no body at word ${versionBodyOffset(history, i)}`);
    }
    writer.time(versionAt(history, i));
    writer.uint(body * 4 + rank);
    writer.int32(order - rank * ORDER_RANK_UNIT);
  }
}

export function readSubscriptionHistory(reader: ByteReader): SubscriptionHistory {
  const id = reader.requiredString('subscription.id');
  const shape = reader.uint('subscription.versions');
  const versionCount = Math.floor(shape / 2);
  const truncated = shape % 2 === 1;
  if (versionCount * 6 > reader.remaining)
    reader.fail('malformed', 'subscription.versions', 'more versions than bytes');
  // The reducer truncates a history to its newest versions, never to none.
  if (truncated && versionCount === 0) reader.fail('malformed', 'subscription.versions', 'truncated to no version');
  if (versionCount >= TRUNCATED_UNIT)
    reader.fail('malformed', 'subscription.versions', 'more versions than a history keeps');
  const refCount = reader.count('subscription.refs', 2);
  const refs = new Array<unknown>(refCount);
  const refKinds = new Uint8Array(refCount);
  for (let i = 0; i < refCount; i++) {
    const kindAt = reader.offset;
    const kind = reader.uint('subscription.ref.kind');
    refKinds[i] = kind;
    if (kind === REF_STRING) refs[i] = reader.requiredString('subscription.ref');
    else if (kind === REF_IDS) refs[i] = readIds(reader);
    else if (kind === REF_PRICE) refs[i] = readPrice(reader);
    else reader.fail('malformed', 'subscription.ref.kind', `unknown ref kind ${kind}`, kindAt);
  }
  const bodyCount = reader.count('subscription.bodies', 5);
  const words: number[] = [];
  const offsets = new Array<number>(bodyCount);
  for (let i = 0; i < bodyCount; i++) {
    offsets[i] = words.length;
    readBody(reader, refs, refKinds, words);
  }
  const versions = new Array<number>(1 + versionCount * VERSION_STRIDE);
  versions[0] = versionCount + (truncated ? TRUNCATED_UNIT : 0);
  for (let i = 0; i < versionCount; i++) {
    const at = reader.requiredTime('subscription.version.at');
    const pointerAt = reader.offset;
    const pointer = reader.uint('subscription.version.body');
    const rank = pointer % 4;
    const body = (pointer - rank) / 4;
    if (rank > MAX_RANK || body >= bodyCount) {
      reader.fail('malformed', 'subscription.version.body', `no body ${body} / rank ${rank}`, pointerAt);
    }
    const bodyOffset = offsets[body] as number;
    if (bodyOffset >= MAX_BODY_OFFSET) {
      reader.fail('malformed', 'subscription.version.body', `body at word ${bodyOffset}, beyond the limit`, pointerAt);
    }
    const order = rank * ORDER_RANK_UNIT + reader.uint32('subscription.version.hash');
    const offset = 1 + i * VERSION_STRIDE;
    if (i > 0) {
      const previousAt = versions[offset - VERSION_STRIDE] as number;
      const previousOrder = Math.floor((versions[offset - 1] as number) / MAX_BODY_OFFSET);
      if (previousAt > at || (previousAt === at && previousOrder >= order)) {
        reader.fail('malformed', 'subscription.version.at', 'versions out of order', pointerAt);
      }
    }
    versions[offset] = at;
    versions[offset + 1] = versionWord(order, bodyOffset);
  }
  const history = versionCount === 0 && words.length === 0 ? EMPTY : versions.concat(words);
  return { id, words: history, refs, next: null };
}

function writeRef(writer: ByteWriter, ref: unknown): void {
  if (typeof ref === 'string') {
    writer.uint(REF_STRING);
    writer.string(ref);
  } else if (Array.isArray(ref)) {
    writer.uint(REF_IDS);
    writer.uint(ref.length);
    for (const id of ref as readonly unknown[]) {
      if (typeof id !== 'string') throw new EntityStateEncodeError('subscription.ref', 'an id list holds a non-string');
      writer.string(id);
    }
  } else if (typeof ref === 'object' && ref !== null) {
    writer.uint(REF_PRICE);
    writePrice(writer, ref as Price);
  } else {
    throw new EntityStateEncodeError('subscription.ref', `unexpected ${typeof ref}`);
  }
}

function readIds(reader: ByteReader): readonly string[] {
  const count = reader.count('subscription.ref.ids');
  if (count === 0) return EMPTY_IDS;
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = reader.requiredString('subscription.ref.ids');
  return ids;
}

/** The body at `start` in `body` (whose offsets bodyOffsets has checked). */
function writeBody(writer: ByteWriter, body: readonly number[], start: number, refCount: number): void {
  const head = body[start] as number;
  const presence = Math.floor(head / HEAD_PRESENCE_UNIT) % 16;
  const itemCount = Math.floor(head / HEAD_ITEMS_UNIT);
  const instants = popCount(presence);
  writer.uint(head);
  writer.time(body[start + 1] as number);
  const refsWord = body[start + 2] as number;
  writeRefPair(writer, refsWord, refCount);
  let offset = start + FIXED_WORDS;
  for (let i = 0; i < instants; i++) writer.time(body[offset++] as number);
  for (let i = 0; i < itemCount; i++) {
    const word = body[offset++] as number;
    if (!Number.isSafeInteger(word) || word < 0) {
      throw new EntityStateEncodeError('subscription.body.item', `not a packed ref word: ${word}`);
    }
    writeRefPair(writer, word % (REF_UNIT * REF_UNIT), refCount);
    const priceRef = Math.floor(word / REF_UNIT / REF_UNIT);
    checkRef(priceRef, refCount, 'subscription.body.item.price');
    writer.uint(priceRef);
    writer.number(body[offset++] as number);
  }
}

/** A ref + 2¹⁶ × id-list ref, as two uints. */
function writeRefPair(writer: ByteWriter, word: number, refCount: number): void {
  const low = word % REF_UNIT;
  const high = Math.floor(word / REF_UNIT);
  if (!Number.isSafeInteger(word) || word < 0) {
    throw new EntityStateEncodeError('subscription.body', `not a packed ref word: ${word}`);
  }
  checkRef(low, refCount, 'subscription.body.ref');
  checkRef(high, refCount, 'subscription.body.ids');
  writer.uint(low);
  writer.uint(high);
}

function checkRef(ref: number, refCount: number, field: string): void {
  if (ref >= refCount) throw new EntityStateEncodeError(field, `ref ${ref} of ${refCount}`);
}

/** Reads one body and appends its words to `body`. */
function readBody(reader: ByteReader, refs: unknown[], kinds: Uint8Array, body: number[]): void {
  const headAt = reader.offset;
  const head = reader.uint('subscription.body.head');
  const presence = Math.floor(head / HEAD_PRESENCE_UNIT) % 16;
  const itemCount = Math.floor(head / HEAD_ITEMS_UNIT);
  const instants = popCount(presence);
  if (itemCount * 4 > reader.remaining) reader.fail('malformed', 'subscription.body.head', 'too many items', headAt);
  body.push(head, reader.requiredTime('subscription.body.created'));
  const currency = readRef(reader, refs, kinds, REF_STRING, 'subscription.body.currency');
  refs[currency] = internCode(refs[currency] as string);
  body.push(currency + REF_UNIT * readRef(reader, refs, kinds, REF_IDS, 'subscription.body.discountIds'));
  for (let i = 0; i < instants; i++) body.push(reader.requiredTime('subscription.body.instant'));
  for (let i = 0; i < itemCount; i++) {
    const itemId = readRef(reader, refs, kinds, REF_STRING, 'subscription.body.item.id');
    const ids = readRef(reader, refs, kinds, REF_IDS, 'subscription.body.item.discountIds');
    const price = readRef(reader, refs, kinds, REF_PRICE, 'subscription.body.item.price');
    body.push(itemId + REF_UNIT * ids + REF_UNIT * REF_UNIT * price);
    body.push(reader.requiredNumber('subscription.body.item.quantity'));
  }
}

function readRef(reader: ByteReader, refs: readonly unknown[], kinds: Uint8Array, kind: number, field: string): number {
  const at = reader.offset;
  const ref = reader.uint(field);
  if (ref >= refs.length || kinds[ref] !== kind) reader.fail('malformed', field, `ref ${ref} is not a ${field}`, at);
  return ref;
}

function popCount(bits: number): number {
  let count = 0;
  for (let bit = 0; bit < OPTIONAL_INSTANTS; bit++) if ((bits & (1 << bit)) !== 0) count++;
  return count;
}
