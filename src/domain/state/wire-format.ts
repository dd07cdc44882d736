/**
 * The entity-state record, format version 1. Changing anything here (an enum table's order included) needs a new
 * FORMAT_VERSION and a decoder for the old one: records written by the running version are restored by the next.
 *
 *   [0]      format version (1)
 *   [1]      kind: 1 customer, 2 user
 *   [2, n-4) the state, as below
 *   [n-4, n) CRC-32 of bytes [0, n-4), little-endian: a flipped or lost byte is an error, never another state
 *
 * Primitives:
 *   uint     LEB128, a non-negative safe integer
 *   int32    4 bytes little-endian (the reducer's FNV-1a hashes)
 *   number   uint v; v mod 4 = 0: the integer unzigzag(v / 4) (|n| < 2⁵⁰, not −0); 1: float64 LE follows
 *            (fractions, −0, ±Infinity, NaN, huge values); 2: null
 *   time     uint v, relative to the previous time written in the record (0 at first): v mod 4 = 0: a delta of
 *            unzigzag(v / 4) seconds; 1: a delta of unzigzag(v / 4) ms; 2: absolute float64 LE follows; 3: null.
 *            Event times are whole seconds from Stripe and close to each other, so most take 3–4 bytes.
 *   string   uint v; 0: null; odd: the ((v − 1) / 2)-th string of this record; even: a new string of v / 2 − 1
 *            bytes of WTF-8 (UTF-8 that also carries lone surrogates, so any JS string survives) follows
 *   json     tag byte: 0 null, 1 false, 2 true, 3 number, 4 string, 5 array (uint count, items),
 *            6 object (uint count, then string key + json value), ≥ 7: the integer tag − 7
 *
 * Customer: string customerId, time lastEventAt, uint presence (1 customer, 2 lastCharge), [customer record: the
 * versioned record's fields, then strings email, name, currency (always null now: not kept), address country],
 * uint count + subscription histories, uint count + discount records, uint count + payment methods, [last charge],
 * uint count + int32 failed-charge hashes, uint count + disputes. A versioned record starts with uint flags
 * (rank in the low 2 bits, booleans and enum codes above), time at, int32 tie. A subscription history: string id,
 * uint (versions × 2 + truncated), uint count + refs (uint tag: 0 string, 1 id list, 2 price), uint count +
 * packed bodies (their words split into refs and numbers), then per version: time at, uint (body × 4 + rank),
 * 4-byte event-id hash.
 *
 * User: string userKey, time lastEventAt, then the trait state's JSON document (user-trait-state-json.ts) field by
 * field: uint document version, times first/last seen and last activity, number horizonDay, uint count + buckets
 * (number day delta, number activity, uint count + int32 ids), uint count + windowed (string key, signature,
 * uint count + json parts), uint count + all-time (string key, signature, json part), uint count + identify
 * (string path, time at, json value). A signature is uint 0 + string, or uint 1 + the 8 bytes of a 16-hex one.
 */
export const FORMAT_VERSION = 1;
export const KIND_CUSTOMER = 1;
export const KIND_USER = 2;
export const HEADER_BYTES = 2;
export const CHECKSUM_BYTES = 4;

export const NUMBER_INTEGER = 0;
export const NUMBER_FLOAT = 1;
export const NUMBER_NULL = 2;

export const TIME_SECONDS = 0;
export const TIME_MS = 1;
export const TIME_ABSOLUTE = 2;
export const TIME_NULL = 3;

/** Largest magnitude written as a tagged integer: zigzag × 4 + tag stays a safe integer. */
export const MAX_TAGGED_MAGNITUDE = 2 ** 50 - 1;

export const JSON_NULL = 0;
export const JSON_FALSE = 1;
export const JSON_TRUE = 2;
export const JSON_NUMBER = 3;
export const JSON_STRING = 4;
export const JSON_ARRAY = 5;
export const JSON_OBJECT = 6;
export const JSON_SMALL_INT = 7;
export const JSON_SMALL_INT_MAX = 255 - JSON_SMALL_INT;

/** Nesting beyond this is refused on decode (a forged record must not exhaust the stack). */
export const MAX_JSON_DEPTH = 64;

export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}
