import { isCountryCode } from '../codes.js';
import { DISPUTE_STATUSES, type DisputeStatus } from '../stripe/model.js';
import type { EpochMs } from '../time.js';

/**
 * A customer's numbers, in one array of doubles: the versions of its customer object and newest charge, its flags,
 * and its payment methods, failed charges and disputes as fixed-size records. One array instead of ten fields, three
 * boxed doubles and an array with an object per record: ~180 bytes less per customer, which at a million customers is
 * most of what separates the state from 1 KB each. The array is the state's own: scalars change in place, a record
 * added or dropped gives the state a new array at exact length.
 *
 * Layout:
 *   [0] last event time (−Infinity before any change)
 *   [1] the customer object's newest version: event time (−Infinity while none was seen), [2] its event-id hash,
 *   [3] its flags, 1 delinquent and 2 deleted (a deleted customer's version ranks as a deletion), + 4 × its address
 *   country (countryNumber)
 *   [4] the newest successful charge that named a country: event time (−Infinity while none), [5] event-id hash,
 *   [6] its card and billing countries (countryPair)
 *   [7] record counts: payment methods + 64 × failed charges + 4096 × disputes
 *   then the payment methods, ascending by version, RECORD_WORDS each: event time, order, id hash, countryPair +
 *     2²⁰ × detached
 *   then the failed charges' id hashes, ascending (beyond the limit the largest are dropped: which are kept does not
 *     depend on arrival order, and a charge delivered again once dropped changes nothing)
 *   then the disputes, ascending by version, RECORD_WORDS each: event time, order, id hash, status index
 * A record's order is rank × 2³² + (event-id hash + 2³¹): ascending as (rank, hash) are, and exact.
 */
export type CustomerWords = number[];

/**
 * Version order key: event time, then rank (a deletion sorts after any update of the same second), then event-id
 * hash. Records are built as plain literals, never with object spread: V8 gives spread copies a slow, far larger
 * shape (measured: ~600 bytes more per record), which matters at a million customers.
 */
export interface Versioned {
  readonly at: EpochMs;
  readonly rank: number;
  readonly tie: number;
}

export interface PaymentMethodRecord extends Versioned {
  /** FNV-1a hash of the payment method id. */
  readonly idHash: number;
  readonly cardCountry: string | null;
  readonly billingCountry: string | null;
  readonly detached: boolean;
}

export interface DisputeRecord extends Versioned {
  /** FNV-1a hash of the dispute id. */
  readonly idHash: number;
  readonly status: DisputeStatus;
}

/** The customer object's newest version and what the state keeps of it as numbers. */
export interface CustomerVersion {
  readonly at: EpochMs;
  readonly tie: number;
  readonly delinquent: boolean;
  readonly deleted: boolean;
  readonly addressCountry: string | null;
}

export interface LastCharge {
  readonly at: EpochMs;
  readonly tie: number;
  readonly cardCountry: string | null;
  readonly billingCountry: string | null;
}

/** Everything the words hold, as values (what the state codec reads and writes). */
export interface CustomerNumbers {
  readonly lastEventAt: EpochMs;
  readonly customer: CustomerVersion | null;
  readonly lastCharge: LastCharge | null;
  readonly paymentMethods: readonly PaymentMethodRecord[];
  readonly failedCharges: readonly number[];
  readonly disputes: readonly DisputeRecord[];
}

/** Bounds that keep one customer's records small; beyond them the oldest are dropped (see README). */
export const CUSTOMER_RECORD_LIMITS = { paymentMethods: 8, failedCharges: 32, disputes: 16 } as const;

const LAST_EVENT_AT = 0;
const CUSTOMER_AT = 1;
const CUSTOMER_TIE = 2;
const CUSTOMER_FLAGS = 3;
const CHARGE_AT = 4;
const CHARGE_TIE = 5;
const CHARGE_COUNTRIES = 6;
const COUNTS = 7;
const HEADER_WORDS = 8;
const RECORD_WORDS = 4;
const FLAG_DELINQUENT = 1;
const FLAG_DELETED = 2;
const FLAGS_UNIT = 4;
const FAILED_UNIT = 64;
const DISPUTE_UNIT = 4096;
const ORDER_RANK_UNIT = 2 ** 32;
const TIE_OFFSET = 2 ** 31;
const COUNTRY_UNIT = 1024;
const DETACHED_UNIT = 2 ** 20;
const LETTERS = 26;
const LETTER_A = 65;

export function emptyCustomerWords(): CustomerWords {
  // A literal of doubles: V8 keeps it unboxed (one FixedDoubleArray), as the writes in place keep it.
  return [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0, Number.NEGATIVE_INFINITY, 0, 0, 0];
}

export function lastEventAtOf(words: readonly number[]): EpochMs {
  return words[LAST_EVENT_AT] as number;
}

export function setLastEventAt(words: CustomerWords, at: EpochMs): void {
  words[LAST_EVENT_AT] = at;
}

export function customerVersionOf(words: readonly number[]): CustomerVersion | null {
  const at = words[CUSTOMER_AT] as number;
  if (at === Number.NEGATIVE_INFINITY) return null;
  const flags = words[CUSTOMER_FLAGS] as number;
  return {
    at,
    tie: words[CUSTOMER_TIE] as number,
    delinquent: (flags & FLAG_DELINQUENT) !== 0,
    deleted: (flags & FLAG_DELETED) !== 0,
    addressCountry: countryOfNumber(Math.floor(flags / FLAGS_UNIT)),
  };
}

/** Whether `candidate` is newer than the customer version held (any version is, while none is). */
export function newerThanCustomer(
  words: readonly number[],
  candidate: Versioned,
  rankOf: (deleted: boolean) => number,
): boolean {
  const flags = words[CUSTOMER_FLAGS] as number;
  return isNewerThan(
    candidate,
    words[CUSTOMER_AT] as number,
    rankOf((flags & FLAG_DELETED) !== 0),
    words[CUSTOMER_TIE] as number,
  );
}

export function setCustomerVersion(words: CustomerWords, version: CustomerVersion): void {
  words[CUSTOMER_AT] = version.at;
  words[CUSTOMER_TIE] = version.tie;
  words[CUSTOMER_FLAGS] =
    (version.delinquent ? FLAG_DELINQUENT : 0) +
    (version.deleted ? FLAG_DELETED : 0) +
    FLAGS_UNIT * countryNumber(version.addressCountry);
}

/** The address country of the customer object's newest version. */
export function addressCountryOf(words: readonly number[]): string | null {
  return countryOfNumber(Math.floor((words[CUSTOMER_FLAGS] as number) / FLAGS_UNIT));
}

export function isDelinquent(words: readonly number[]): boolean {
  return ((words[CUSTOMER_FLAGS] as number) & FLAG_DELINQUENT) !== 0;
}

export function isCustomerDeleted(words: readonly number[]): boolean {
  return ((words[CUSTOMER_FLAGS] as number) & FLAG_DELETED) !== 0;
}

export function lastChargeOf(words: readonly number[]): LastCharge | null {
  const at = words[CHARGE_AT] as number;
  if (at === Number.NEGATIVE_INFINITY) return null;
  const countries = words[CHARGE_COUNTRIES] as number;
  return {
    at,
    tie: words[CHARGE_TIE] as number,
    cardCountry: countryOfNumber(countries % COUNTRY_UNIT),
    billingCountry: countryOfNumber(Math.floor(countries / COUNTRY_UNIT)),
  };
}

/** Whether `candidate` (ranked `rank`) is newer than the last charge held (any is, while none is). */
export function newerThanLastCharge(words: readonly number[], candidate: Versioned, rank: number): boolean {
  return isNewerThan(candidate, words[CHARGE_AT] as number, rank, words[CHARGE_TIE] as number);
}

export function setLastCharge(words: CustomerWords, charge: LastCharge): void {
  words[CHARGE_AT] = charge.at;
  words[CHARGE_TIE] = charge.tie;
  words[CHARGE_COUNTRIES] = countryPair(charge.cardCountry, charge.billingCountry);
}

export function paymentMethodCount(words: readonly number[]): number {
  return (words[COUNTS] as number) % FAILED_UNIT;
}

export function failedChargeCount(words: readonly number[]): number {
  return Math.floor((words[COUNTS] as number) / FAILED_UNIT) % (DISPUTE_UNIT / FAILED_UNIT);
}

export function disputeCount(words: readonly number[]): number {
  return Math.floor((words[COUNTS] as number) / DISPUTE_UNIT);
}

export function paymentMethodsOf(words: readonly number[]): PaymentMethodRecord[] {
  const methods: PaymentMethodRecord[] = [];
  const start = HEADER_WORDS;
  for (let i = 0; i < paymentMethodCount(words); i++) methods.push(paymentMethodAt(words, start + i * RECORD_WORDS));
  return methods;
}

/** The newest attached payment method's card country, else its billing country, going back until one names one. */
export function paymentMethodCountry(words: readonly number[]): string | null {
  for (let i = paymentMethodCount(words) - 1; i >= 0; i--) {
    const code = words[HEADER_WORDS + i * RECORD_WORDS + 3] as number;
    if (code >= DETACHED_UNIT) continue;
    const country = countryOfNumber(code % COUNTRY_UNIT) ?? countryOfNumber(Math.floor(code / COUNTRY_UNIT));
    if (country !== null) return country;
  }
  return null;
}

export function failedChargesOf(words: readonly number[]): number[] {
  const start = failedStart(words);
  return words.slice(start, start + failedChargeCount(words));
}

export function hasFailedCharge(words: readonly number[], idHash: number): boolean {
  const start = failedStart(words);
  const end = start + failedChargeCount(words);
  for (let i = start; i < end; i++) if (words[i] === idHash) return true;
  return false;
}

export function disputesOf(words: readonly number[]): DisputeRecord[] {
  const disputes: DisputeRecord[] = [];
  const start = disputesStart(words);
  for (let i = 0; i < disputeCount(words); i++) {
    const at = start + i * RECORD_WORDS;
    const order = words[at + 1] as number;
    disputes.push({
      at: words[at] as number,
      rank: rankOfOrder(order),
      tie: tieOfOrder(order),
      idHash: words[at + 2] as number,
      status: DISPUTE_STATUSES[words[at + 3] as number] as DisputeStatus,
    });
  }
  return disputes;
}

/** Open and lost disputes, by the statuses given as open. */
export function countDisputes(
  words: readonly number[],
  isOpen: (status: DisputeStatus) => boolean,
): { readonly open: number; readonly lost: number; readonly total: number } {
  let open = 0;
  let lost = 0;
  const start = disputesStart(words);
  const total = disputeCount(words);
  for (let i = 0; i < total; i++) {
    const status = DISPUTE_STATUSES[words[start + i * RECORD_WORDS + 3] as number] as DisputeStatus;
    if (isOpen(status)) open++;
    else if (status === 'lost') lost++;
  }
  return { open, lost, total };
}

/**
 * Adds a payment method's version, or replaces the one held for its id when newer; a detached one is final. Returns
 * the state's new words, or null when nothing changes (a duplicate, an older version, one after the detachment).
 */
export function withPaymentMethod(words: readonly number[], method: PaymentMethodRecord): CustomerWords | null {
  const existing = recordWithId(words, HEADER_WORDS, paymentMethodCount(words), method.idHash);
  if (existing >= 0) {
    const at = HEADER_WORDS + existing * RECORD_WORDS;
    if ((words[at + 3] as number) >= DETACHED_UNIT) return null;
    if (!isNewerThanRecord(method, words, at)) return null;
  }
  return withSection(
    words,
    PAYMENT_METHODS,
    existing,
    paymentMethodWords(method),
    CUSTOMER_RECORD_LIMITS.paymentMethods,
  );
}

/** Adds a failed charge's id hash; null when it is already held, or is the one dropped at the limit. */
export function withFailedCharge(words: readonly number[], idHash: number): CustomerWords | null {
  if (hasFailedCharge(words, idHash)) return null;
  return withSection(words, FAILED_CHARGES, -1, [idHash], CUSTOMER_RECORD_LIMITS.failedCharges);
}

/** Adds a dispute's version, or replaces the one held for its id when newer; null when nothing changes. */
export function withDispute(words: readonly number[], dispute: DisputeRecord): CustomerWords | null {
  const start = disputesStart(words);
  const existing = recordWithId(words, start, disputeCount(words), dispute.idHash);
  if (existing >= 0 && !isNewerThanRecord(dispute, words, start + existing * RECORD_WORDS)) return null;
  return withSection(words, DISPUTES, existing, disputeWords(dispute), CUSTOMER_RECORD_LIMITS.disputes);
}

/**
 * The words holding `numbers`. Payment methods and disputes are kept in the order given (the codec's, which the
 * reducer wrote ascending); failed charges are sorted, as the reducer keeps them (older states kept arrival order).
 * Throws a RangeError when a list is over its limit or a country is not a two-letter code.
 */
export function customerWordsOf(numbers: CustomerNumbers): CustomerWords {
  const { paymentMethods, failedCharges, disputes } = numbers;
  if (paymentMethods.length > CUSTOMER_RECORD_LIMITS.paymentMethods) throw overLimit('payment methods');
  if (failedCharges.length > CUSTOMER_RECORD_LIMITS.failedCharges) throw overLimit('failed charges');
  if (disputes.length > CUSTOMER_RECORD_LIMITS.disputes) throw overLimit('disputes');
  const words = emptyCustomerWords();
  setLastEventAt(words, numbers.lastEventAt);
  if (numbers.customer !== null) setCustomerVersion(words, numbers.customer);
  if (numbers.lastCharge !== null) setLastCharge(words, numbers.lastCharge);
  words[COUNTS] = paymentMethods.length + FAILED_UNIT * failedCharges.length + DISPUTE_UNIT * disputes.length;
  for (const method of paymentMethods) words.push(...paymentMethodWords(method));
  for (const hash of [...failedCharges].sort(ascending)) words.push(hash);
  for (const dispute of disputes) words.push(...disputeWords(dispute));
  // At exact length: V8 gives a pushed-to array spare capacity.
  return words.slice();
}

/**
 * An ISO 3166-1 alpha-2 code as a number in [1, 676], 0 for none. The parsers only let such codes through
 * (codes.ts: countryCode), so every country a state holds has one.
 */
export function countryNumber(code: string | null): number {
  if (code === null) return 0;
  if (!isCountryCode(code)) throw new RangeError(`not a two-letter country code: ${JSON.stringify(code)}`);
  return 1 + (code.charCodeAt(0) - LETTER_A) * LETTERS + (code.charCodeAt(1) - LETTER_A);
}

function countryOfNumber(value: number): string | null {
  if (value === 0) return null;
  const index = value - 1;
  return COUNTRY_CODES[index] ?? null;
}

/** Every two-letter code, built once: decoding a country gives a shared string, not a new one. */
const COUNTRY_CODES: readonly string[] = Array.from({ length: LETTERS * LETTERS }, (_, index) =>
  String.fromCharCode(LETTER_A + Math.floor(index / LETTERS), LETTER_A + (index % LETTERS)),
);

function countryPair(card: string | null, billing: string | null): number {
  return countryNumber(card) + COUNTRY_UNIT * countryNumber(billing);
}

function paymentMethodWords(method: PaymentMethodRecord): number[] {
  const code = countryPair(method.cardCountry, method.billingCountry) + (method.detached ? DETACHED_UNIT : 0);
  return [method.at, orderOf(method), method.idHash, code];
}

function disputeWords(dispute: DisputeRecord): number[] {
  return [dispute.at, orderOf(dispute), dispute.idHash, disputeStatusIndex(dispute.status)];
}

/** Index of the record among the `count` from `start` whose id hash is `idHash`, or −1. */
function recordWithId(words: readonly number[], start: number, count: number, idHash: number): number {
  for (let i = 0; i < count; i++) if (words[start + i * RECORD_WORDS + 2] === idHash) return i;
  return -1;
}

function paymentMethodAt(words: readonly number[], at: number): PaymentMethodRecord {
  const order = words[at + 1] as number;
  const code = words[at + 3] as number;
  const countries = code % DETACHED_UNIT;
  return {
    at: words[at] as number,
    rank: rankOfOrder(order),
    tie: tieOfOrder(order),
    idHash: words[at + 2] as number,
    cardCountry: countryOfNumber(countries % COUNTRY_UNIT),
    billingCountry: countryOfNumber(Math.floor(countries / COUNTRY_UNIT)),
    detached: code >= DETACHED_UNIT,
  };
}

/** The record sections, in their order in the words. */
type Section = 0 | 1 | 2;
const PAYMENT_METHODS: Section = 0;
const FAILED_CHARGES: Section = 1;
const DISPUTES: Section = 2;

function failedStart(words: readonly number[]): number {
  return HEADER_WORDS + paymentMethodCount(words) * RECORD_WORDS;
}

function disputesStart(words: readonly number[]): number {
  return failedStart(words) + failedChargeCount(words);
}

/**
 * The words with `record` put in a section: replacing its record `replace` (≥ 0), else added; versioned sections
 * are kept ascending by (event time, order), the oldest dropped beyond `limit`; failed charges ascending by hash,
 * the largest dropped. Null when `record` itself is the one dropped: nothing changes.
 */
function withSection(
  words: readonly number[],
  section: Section,
  replace: number,
  record: readonly number[],
  limit: number,
): CustomerWords | null {
  const counts = [paymentMethodCount(words), failedChargeCount(words), disputeCount(words)];
  const sizes = [RECORD_WORDS, 1, RECORD_WORDS];
  const starts = [HEADER_WORDS, failedStart(words), disputesStart(words)];
  const size = sizes[section] as number;
  const start = starts[section] as number;
  const count = counts[section] as number;
  const records: number[][] = [];
  for (let i = 0; i < count; i++) {
    if (i !== replace) records.push(words.slice(start + i * size, start + (i + 1) * size));
  }
  const added = record.slice();
  records.push(added);
  const byHash = section === FAILED_CHARGES;
  records.sort(byHash ? (a, b) => ascending(a[0] as number, b[0] as number) : compareRecords);
  const over = records.length - limit;
  const kept = over <= 0 ? records : byHash ? records.slice(0, limit) : records.slice(over);
  if (!kept.includes(added)) return null;
  counts[section] = kept.length;
  const next = new Array<number>(words.length + (kept.length - count) * size);
  for (let i = 0; i < HEADER_WORDS; i++) next[i] = words[i] as number;
  next[COUNTS] = (counts[0] as number) + FAILED_UNIT * (counts[1] as number) + DISPUTE_UNIT * (counts[2] as number);
  let to = HEADER_WORDS;
  for (const s of [PAYMENT_METHODS, FAILED_CHARGES, DISPUTES]) {
    if (s === section) {
      for (const entry of kept) for (const word of entry) next[to++] = word;
      continue;
    }
    const from = starts[s] as number;
    const end = from + (counts[s] as number) * (sizes[s] as number);
    for (let i = from; i < end; i++) next[to++] = words[i] as number;
  }
  return next;
}

function ascending(a: number, b: number): number {
  return a - b;
}

function compareRecords(a: readonly number[], b: readonly number[]): number {
  return (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number);
}

function isNewerThanRecord(candidate: Versioned, words: readonly number[], at: number): boolean {
  return (candidate.at - (words[at] as number) || orderOf(candidate) - (words[at + 1] as number)) > 0;
}

function isNewerThan(candidate: Versioned, at: EpochMs, rank: number, tie: number): boolean {
  return (candidate.at - at || candidate.rank - rank || candidate.tie - tie) > 0;
}

function orderOf(version: Versioned): number {
  return version.rank * ORDER_RANK_UNIT + version.tie + TIE_OFFSET;
}

function rankOfOrder(order: number): number {
  return Math.floor(order / ORDER_RANK_UNIT);
}

function tieOfOrder(order: number): number {
  return (order % ORDER_RANK_UNIT) - TIE_OFFSET;
}

function disputeStatusIndex(status: DisputeStatus): number {
  const index = DISPUTE_STATUSES.indexOf(status);
  if (index < 0) throw new RangeError(`not a dispute status: ${status}`);
  return index;
}

function overLimit(what: string): RangeError {
  return new RangeError(`more ${what} than a customer state keeps`);
}
