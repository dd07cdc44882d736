import { internCode, isCountryCode } from '../codes.js';
import {
  CHARGE_RANK,
  customerRank,
  linkSubscriptions,
  sharedCustomerId,
  sharedSubscriptionId,
  subscriptionsOf,
  type CustomerState,
  type DiscountRecord,
  type SubscriptionHistory,
} from '../revenue/customer-state.js';
import {
  CUSTOMER_RECORD_LIMITS,
  customerVersionOf,
  customerWordsOf,
  disputesOf,
  failedChargesOf,
  lastChargeOf,
  lastEventAtOf,
  paymentMethodsOf,
  type CustomerVersion,
  type DisputeRecord,
  type LastCharge,
  type PaymentMethodRecord,
} from '../revenue/customer-words.js';
import { EMPTY } from '../revenue/exact-arrays.js';
import type { CouponDuration, Discount, DisputeStatus } from '../stripe/model.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { EntityStateEncodeError } from './entity-state-errors.js';
import { readSubscriptionHistory, writeSubscriptionHistory } from './subscription-history-codec.js';

/** Enum codes of format version 1 (a Record, so adding a value to the union fails to compile until it has one). */
const DISPUTE_STATUS_CODES: Readonly<Record<DisputeStatus, number>> = {
  needs_response: 0,
  under_review: 1,
  won: 2,
  lost: 3,
  warning_needs_response: 4,
  warning_under_review: 5,
  warning_closed: 6,
  prevented: 7,
  appeal_needs_response: 8,
  appeal_under_review: 9,
};
const DURATION_CODES: Readonly<Record<CouponDuration, number>> = { once: 0, repeating: 1, forever: 2 };
const DISPUTE_STATUSES = tableOf(DISPUTE_STATUS_CODES);
const DURATIONS = tableOf(DURATION_CODES);

const HAS_CUSTOMER = 1;
const HAS_LAST_CHARGE = 2;
/** Flags of a versioned record: rank in the low two bits, the record's own flags or enum code above. */
const RANK_BITS = 4;
const MAX_RANK = 2;

interface Versioned {
  readonly at: number;
  readonly rank: number;
  readonly tie: number;
}

export function writeCustomerState(writer: ByteWriter, state: CustomerState): void {
  const words = state.words;
  const customer = customerVersionOf(words);
  const lastCharge = lastChargeOf(words);
  writer.string(state.customerId);
  writer.time(lastEventAtOf(words));
  writer.uint((customer !== null ? HAS_CUSTOMER : 0) + (lastCharge !== null ? HAS_LAST_CHARGE : 0));
  if (customer !== null) {
    const version = { at: customer.at, rank: customerRank(customer.deleted), tie: customer.tie };
    writeVersioned(writer, version, (customer.delinquent ? 1 : 0) + (customer.deleted ? 2 : 0), 'customer');
    writer.string(state.email);
    writer.string(state.name);
    // The customer's default currency: no longer kept (nothing derived reads it); the field stays in format 1.
    writer.string(null);
    writer.string(customer.addressCountry);
  }
  const subscriptions = subscriptionsOf(state);
  writer.uint(subscriptions.length);
  for (const history of subscriptions) writeSubscriptionHistory(writer, history);
  writer.uint(state.discounts.length);
  for (const record of state.discounts) writeDiscountRecord(writer, record);
  const paymentMethods = paymentMethodsOf(words);
  writer.uint(paymentMethods.length);
  for (const method of paymentMethods) {
    writeVersioned(writer, method, method.detached ? 1 : 0, 'paymentMethod');
    writeHash(writer, method.idHash, 'paymentMethod.idHash');
    writer.string(method.cardCountry);
    writer.string(method.billingCountry);
  }
  if (lastCharge !== null) {
    writeVersioned(writer, { at: lastCharge.at, rank: CHARGE_RANK, tie: lastCharge.tie }, 0, 'lastCharge');
    writer.string(lastCharge.cardCountry);
    writer.string(lastCharge.billingCountry);
  }
  const failedCharges = failedChargesOf(words);
  writer.uint(failedCharges.length);
  for (const hash of failedCharges) writeHash(writer, hash, 'failedCharges');
  const disputes = disputesOf(words);
  writer.uint(disputes.length);
  for (const dispute of disputes) {
    writeVersioned(writer, dispute, codeOf(DISPUTE_STATUS_CODES, dispute.status, 'dispute.status'), 'dispute');
    writeHash(writer, dispute.idHash, 'dispute.idHash');
  }
}

/** Records are built as plain literals in the reducer's own key order, so they get the same compact V8 shapes. */
export function readCustomerState(reader: ByteReader): CustomerState {
  const customerId = reader.requiredString('customerId');
  const lastEventAt = reader.requiredTime('lastEventAt');
  const presence = reader.boundedUint('presence', HAS_CUSTOMER + HAS_LAST_CHARGE);
  let customer: CustomerVersion | null = null;
  let email: string | null = null;
  let name: string | null = null;
  if ((presence & HAS_CUSTOMER) !== 0) {
    const flagsAt = reader.offset;
    const flags = readFlags(reader, 'customer', 3);
    const at = reader.requiredTime('customer.at');
    const tie = reader.int32('customer.tie');
    email = reader.string('customer.email');
    name = reader.string('customer.name');
    reader.string('customer.currency');
    const addressCountry = storedCountry(reader.string('customer.addressCountry'));
    const deleted = (flags & (2 * RANK_BITS)) !== 0;
    customer = { at, tie, delinquent: (flags & (1 * RANK_BITS)) !== 0, deleted, addressCountry };
    // The reducer ranks a customer version by whether it deleted the customer; a record saying otherwise is not its.
    if (flags % RANK_BITS !== customerRank(deleted)) {
      reader.fail('malformed', 'customer.rank', 'rank does not match the deleted flag', flagsAt);
    }
  }
  const subscriptions = readList(reader, 'subscriptions', 4, readSubscriptionHistory);
  for (let i = 1; i < subscriptions.length; i++) {
    if ((subscriptions[i - 1] as SubscriptionHistory).id >= (subscriptions[i] as SubscriptionHistory).id) {
      reader.fail('malformed', 'subscriptions', 'subscriptions not in ascending id order');
    }
  }
  const firstSubscription = linkSubscriptions(subscriptions);
  const discounts = readList(reader, 'discounts', 12, (r) => readDiscountRecord(r, customerId, firstSubscription));
  const paymentMethods = readBoundedList(
    reader,
    'paymentMethods',
    10,
    CUSTOMER_RECORD_LIMITS.paymentMethods,
    readPaymentMethod,
  );
  let lastCharge: LastCharge | null = null;
  if ((presence & HAS_LAST_CHARGE) !== 0) {
    const flagsAt = reader.offset;
    if (readFlags(reader, 'lastCharge', 0) !== CHARGE_RANK) {
      reader.fail('malformed', 'lastCharge.rank', 'not the rank of a charge', flagsAt);
    }
    lastCharge = {
      at: reader.requiredTime('lastCharge.at'),
      tie: reader.int32('lastCharge.tie'),
      cardCountry: storedCountry(reader.string('lastCharge.cardCountry')),
      billingCountry: storedCountry(reader.string('lastCharge.billingCountry')),
    };
  }
  const failedCharges = readBoundedList(reader, 'failedCharges', 4, CUSTOMER_RECORD_LIMITS.failedCharges, (r) =>
    r.int32('failedCharges'),
  );
  const disputes = readBoundedList(reader, 'disputes', 7, CUSTOMER_RECORD_LIMITS.disputes, readDispute);
  return {
    kind: 'customer',
    customerId,
    email,
    name,
    firstSubscription,
    discounts,
    words: customerWordsOf({ lastEventAt, customer, lastCharge, paymentMethods, failedCharges, disputes }),
  };
}

function writeVersioned(writer: ByteWriter, record: Versioned, extra: number, field: string): void {
  const rank = record.rank;
  if (!Number.isInteger(rank) || rank < 0 || rank > MAX_RANK) {
    throw new EntityStateEncodeError(`${field}.rank`, `not a rank: ${rank}`);
  }
  writer.uint(rank + extra * RANK_BITS);
  writer.time(record.at);
  const tie = record.tie;
  if (!isHash(tie)) throw new EntityStateEncodeError(`${field}.tie`, `not a 32-bit hash: ${tie}`);
  writer.int32(tie);
}

/** Flags of a versioned record, checked: rank ≤ 2 and nothing above `maxExtra`. Returns them whole. */
function readFlags(reader: ByteReader, field: string, maxExtra: number): number {
  const at = reader.offset;
  const flags = reader.boundedUint(field, maxExtra * RANK_BITS + MAX_RANK);
  if (flags % RANK_BITS > MAX_RANK) reader.fail('malformed', field, `rank ${flags % RANK_BITS}`, at);
  return flags;
}

function writeHash(writer: ByteWriter, hash: number, field: string): void {
  if (!isHash(hash)) throw new EntityStateEncodeError(field, `not a 32-bit hash: ${hash}`);
  writer.int32(hash);
}

/** A signed 32-bit integer, as fnv1a32 returns (−0 is not one: it would come back as 0). */
function isHash(value: number): boolean {
  return (value | 0) === value && !Object.is(value, -0);
}

function writeDiscountRecord(writer: ByteWriter, record: DiscountRecord): void {
  const discount = record.discount;
  writeVersioned(writer, record, codeOf(DURATION_CODES, discount.duration, 'discount.duration'), 'discount');
  writer.time(record.removedAt);
  writer.string(discount.id);
  writer.string(discount.couponId);
  writer.number(discount.percentOff);
  writer.number(discount.amountOff);
  writer.string(discount.amountOffCurrency);
  writer.number(discount.durationInMonths);
  writer.time(discount.start);
  writer.time(discount.end);
  writer.string(discount.customerId);
  writer.string(discount.subscriptionId);
  writer.string(discount.subscriptionItemId);
}

/** Its ids share the customer's and the subscriptions' strings, as in the reducer's state. */
function readDiscountRecord(
  reader: ByteReader,
  customerId: string,
  firstSubscription: SubscriptionHistory | null,
): DiscountRecord {
  const flags = readFlags(reader, 'discount', DURATIONS.length - 1);
  const at = reader.requiredTime('discount.at');
  const tie = reader.int32('discount.tie');
  const removedAt = reader.time('discount.removedAt');
  const discount: Discount = {
    id: reader.requiredString('discount.id'),
    couponId: reader.requiredString('discount.couponId'),
    percentOff: reader.number('discount.percentOff'),
    amountOff: reader.number('discount.amountOff'),
    amountOffCurrency: internedOrNull(reader.string('discount.amountOffCurrency')),
    duration: DURATIONS[Math.floor(flags / RANK_BITS)] as CouponDuration,
    durationInMonths: reader.number('discount.durationInMonths'),
    start: reader.requiredTime('discount.start'),
    end: reader.time('discount.end'),
    customerId: sharedCustomerId(customerId, reader.string('discount.customerId')),
    subscriptionId: sharedSubscriptionId(firstSubscription, reader.string('discount.subscriptionId')),
    subscriptionItemId: reader.string('discount.subscriptionItemId'),
  };
  return { at, rank: flags % RANK_BITS, tie, discount, removedAt };
}

function readPaymentMethod(reader: ByteReader): PaymentMethodRecord {
  const flags = readFlags(reader, 'paymentMethod', 1);
  const at = reader.requiredTime('paymentMethod.at');
  const tie = reader.int32('paymentMethod.tie');
  return {
    at,
    rank: flags % RANK_BITS,
    tie,
    idHash: reader.int32('paymentMethod.idHash'),
    cardCountry: storedCountry(reader.string('paymentMethod.cardCountry')),
    billingCountry: storedCountry(reader.string('paymentMethod.billingCountry')),
    detached: flags >= RANK_BITS,
  };
}

function readDispute(reader: ByteReader): DisputeRecord {
  const flags = readFlags(reader, 'dispute', DISPUTE_STATUSES.length - 1);
  const at = reader.requiredTime('dispute.at');
  const tie = reader.int32('dispute.tie');
  return {
    at,
    rank: flags % RANK_BITS,
    tie,
    idHash: reader.int32('dispute.idHash'),
    status: DISPUTE_STATUSES[Math.floor(flags / RANK_BITS)] as DisputeStatus,
  };
}

/** A list at its exact length (the shared empty list when empty, as in live state). */
function readList<T>(
  reader: ByteReader,
  field: string,
  minBytes: number,
  readItem: (r: ByteReader) => T,
): readonly T[] {
  const count = reader.count(field, minBytes);
  if (count === 0) return EMPTY;
  const items = new Array<T>(count);
  for (let i = 0; i < count; i++) items[i] = readItem(reader);
  return items;
}

/** Currency and country codes are shared instances in live state (codes.ts); so they are after a decode. */
function internedOrNull(code: string | null): string | null {
  return code === null ? null : internCode(code);
}

/**
 * A country as state now holds it: a two-letter code, shared. A state written before the parsers let only those
 * through may hold another value; it reads as no country, as the parsers would now read it.
 */
function storedCountry(code: string | null): string | null {
  return code === null || !isCountryCode(code) ? null : internCode(code);
}

/** A list of at most `limit` entries (what the reducer keeps); more is a malformed record. */
function readBoundedList<T>(
  reader: ByteReader,
  field: string,
  minBytes: number,
  limit: number,
  readItem: (r: ByteReader) => T,
): readonly T[] {
  const at = reader.offset;
  const items = readList(reader, field, minBytes, readItem);
  if (items.length > limit)
    reader.fail('malformed', field, `${String(items.length)} entries, over the ${String(limit)} kept`, at);
  return items;
}

function codeOf<K extends string>(codes: Readonly<Record<K, number>>, value: K, field: string): number {
  const code = Object.prototype.hasOwnProperty.call(codes, value) ? codes[value] : undefined;
  if (code === undefined) throw new EntityStateEncodeError(field, `unknown value ${value}`);
  return code;
}

function tableOf<K extends string>(codes: Readonly<Record<K, number>>): readonly K[] {
  const table: K[] = [];
  for (const key of Object.keys(codes) as K[]) table[codes[key]] = key;
  return table;
}
