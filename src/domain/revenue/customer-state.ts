import { fnv1a32 } from '../hash.js';
import type {
  ChargeFact,
  CustomerFact,
  Discount,
  DiscountFact,
  DisputeFact,
  InvoiceFact,
  PaymentMethodFact,
  StripeFact,
  SubscriptionFact,
  SubscriptionSnapshot,
} from '../stripe/model.js';
import type { EpochMs } from '../time.js';
import { appended, EMPTY, replaced } from './exact-arrays.js';
import {
  CUSTOMER_RECORD_LIMITS,
  emptyCustomerWords,
  lastEventAtOf,
  newerThanCustomer,
  newerThanLastCharge,
  setCustomerVersion,
  setLastCharge,
  setLastEventAt,
  withDispute,
  withFailedCharge,
  withPaymentMethod,
  type CustomerWords,
  type Versioned,
} from './customer-words.js';
import { findBody, packBody, unpackBody, type RefTable } from './subscription-body.js';

const EMPTY_NUMBERS: readonly number[] = EMPTY;

/**
 * Everything the core keeps about one Stripe customer. Every part is a set of facts ordered by
 * (event time, kind rank, event-id hash), never by arrival: applying the same facts in any order, any number
 * of times, gives the same state. That is what makes Stripe's at-least-once, unordered delivery harmless.
 */
export interface CustomerState {
  readonly kind: 'customer';
  readonly customerId: string;
  /**
   * The newest version of the customer object's email and name (its version, flags and address country are in
   * `words`; its default currency is not kept: nothing the state derives reads it).
   */
  email: string | null;
  name: string | null;
  /**
   * The subscription histories, ascending by id, as a list linked through their `next` (null: none). Most customers
   * have one subscription; a linked list costs a field per history where an array costs ~56 bytes per customer.
   */
  firstSubscription: SubscriptionHistory | null;
  discounts: readonly DiscountRecord[];
  /**
   * Last event time, the customer object's and the newest charge's versions, flags, payment methods, failed charges
   * and disputes (customer-words.ts).
   */
  words: CustomerWords;
}

export interface SubscriptionHistory {
  readonly id: string;
  /**
   * The versions and the bodies they point at, in one array (one array header per subscription instead of two):
   *   [0] number of versions n, + 2²⁰ when the history is truncated: older versions were dropped to bound memory,
   *   and the oldest kept version counts as already in place (it starts the movement history without a movement of
   *   its own)
   *   then n pairs ascending (event time, order × 2¹⁹ + body): order = rank × 2³² + event-id hash, body = offset of
   *   the version's packed body from the first body's word (bodiesStart); the pair's second word stays below 2⁵³
   *   (order < 3 × 2³², body < 2¹⁹), so it is exact, and a version costs two words instead of three
   *   then the distinct packed bodies, end to end (subscription-body.ts).
   * Empty for a history without versions. The history ends at the first deletion (rank DELETE).
   */
  words: readonly number[];
  /** The strings, prices and id lists the bodies refer to. */
  refs: unknown[];
  /** The customer's subscription history with the next id, if any. */
  next: SubscriptionHistory | null;
}

export const VERSION_STRIDE = 2;
const ORDER_RANK_UNIT = 2 ** 32;
/** Body offsets share a word with the version's order: below this, which no real subscription nears (~1k words). */
export const MAX_BODY_OFFSET = 2 ** 19;

/** The second word of a version: its order and its body's offset, in one exact double. */
export function versionWord(order: number, bodyOffset: number): number {
  if (bodyOffset >= MAX_BODY_OFFSET) {
    throw new RangeError(`a subscription's bodies take more than ${String(MAX_BODY_OFFSET)} words`);
  }
  return order * MAX_BODY_OFFSET + bodyOffset;
}

/** Above any version count (a history keeps 24): the flag of a truncated history in its first word. */
export const TRUNCATED_UNIT = 2 ** 20;

export function versionCount(history: SubscriptionHistory): number {
  return history.words.length === 0 ? 0 : (history.words[0] as number) % TRUNCATED_UNIT;
}

/** Whether older versions were dropped (see SubscriptionHistory.words). */
export function isTruncated(history: SubscriptionHistory): boolean {
  return history.words.length > 0 && (history.words[0] as number) >= TRUNCATED_UNIT;
}

export function versionAt(history: SubscriptionHistory, index: number): EpochMs {
  return history.words[1 + index * VERSION_STRIDE] as number;
}

/** The version's order: rank × 2³² + event-id hash. */
export function versionOrder(history: SubscriptionHistory, index: number): number {
  return Math.floor((history.words[2 + index * VERSION_STRIDE] as number) / MAX_BODY_OFFSET);
}

export function versionIsDeletion(history: SubscriptionHistory, index: number): boolean {
  return versionOrder(history, index) >= RANK_DELETE * ORDER_RANK_UNIT;
}

/** Offset of the version's packed body from bodiesStart. */
export function versionBodyOffset(history: SubscriptionHistory, index: number): number {
  return (history.words[2 + index * VERSION_STRIDE] as number) % MAX_BODY_OFFSET;
}

/** Index in `words` of the first body's first word. */
export function bodiesStart(history: SubscriptionHistory): number {
  return 1 + versionCount(history) * VERSION_STRIDE;
}

export interface DiscountRecord extends Versioned {
  readonly discount: Discount;
  /** Event time of the `customer.discount.deleted` seen for it, if any (kept whatever order it arrived in). */
  readonly removedAt: EpochMs | null;
}

/** Bounds that keep one customer's state small; beyond them the oldest entries are dropped (see README). */
export const CUSTOMER_STATE_LIMITS = {
  versionsPerSubscription: 24,
  paymentMethods: CUSTOMER_RECORD_LIMITS.paymentMethods,
  failedCharges: CUSTOMER_RECORD_LIMITS.failedCharges,
  disputes: CUSTOMER_RECORD_LIMITS.disputes,
  discounts: 32,
} as const;

const RANK_CREATE = 0;
const RANK_UPDATE = 1;
const RANK_DELETE = 2;

export function createCustomerState(customerId: string): CustomerState {
  return {
    kind: 'customer',
    customerId,
    email: null,
    name: null,
    firstSubscription: null,
    discounts: EMPTY,
    words: emptyCustomerWords(),
  };
}

export function compareVersions(a: Versioned, b: Versioned): number {
  return a.at - b.at || a.rank - b.rank || a.tie - b.tie;
}

/** The newest event time that changed the state, −Infinity before any. */
export function customerLastEventAt(state: CustomerState): EpochMs {
  return lastEventAtOf(state.words);
}

/** Rank of a customer object's version: a deletion, or an update. */
export function customerRank(deleted: boolean): number {
  return deleted ? RANK_DELETE : RANK_UPDATE;
}

/** Rank of every charge version. */
export const CHARGE_RANK = RANK_UPDATE;

function versionOf(eventId: string, at: EpochMs, rank: number): Versioned {
  return { at, rank, tie: fnv1a32(eventId) };
}

/**
 * Applies one Stripe fact to the customer's state in place (the caller owns the state) and tells whether
 * anything changed. A duplicate or a stale snapshot returns false.
 */
export function applyStripeFact(state: CustomerState, fact: StripeFact): boolean {
  let changed: boolean;
  switch (fact.kind) {
    case 'customer':
      changed = applyCustomer(state, fact);
      break;
    case 'subscription':
      changed = applySubscription(state, fact);
      break;
    case 'discount':
      changed = applyDiscountFact(state, fact);
      break;
    case 'invoice':
      changed = applyInvoice(state, fact);
      break;
    case 'charge':
      changed = applyCharge(state, fact);
      break;
    case 'payment_method':
      changed = applyPaymentMethod(state, fact);
      break;
    case 'dispute':
      changed = applyDispute(state, fact);
      break;
  }
  if (changed && fact.at > lastEventAtOf(state.words)) setLastEventAt(state.words, fact.at);
  return changed;
}

function applyCustomer(state: CustomerState, fact: CustomerFact): boolean {
  const version = versionOf(fact.eventId, fact.at, customerRank(fact.deleted));
  let changed = false;
  if (fact.discount !== null) changed = upsertDiscount(state, fact.discount, version, null);
  if (!newerThanCustomer(state.words, version, customerRank)) return changed;
  setCustomerVersion(state.words, {
    at: version.at,
    tie: version.tie,
    delinquent: fact.delinquent,
    deleted: fact.deleted,
    addressCountry: fact.addressCountry,
  });
  state.email = fact.email;
  state.name = fact.name;
  return true;
}

function applySubscription(state: CustomerState, fact: SubscriptionFact): boolean {
  const rank = fact.deleted ? RANK_DELETE : RANK_UPDATE;
  let changed = false;
  if (fact.discounts.length > 0) {
    const version = versionOf(fact.eventId, fact.at, rank);
    for (const discount of fact.discounts) {
      if (upsertDiscount(state, discount, version, null)) changed = true;
    }
  }
  const history = findOrInsertSubscription(state, fact.subscription.id);
  const order = rank * ORDER_RANK_UNIT + (fnv1a32(fact.eventId) >>> 0);
  return insertVersion(history, fact.at, order, fact.subscription) || changed;
}

function findOrInsertSubscription(state: CustomerState, id: string): SubscriptionHistory {
  let before: SubscriptionHistory | null = null;
  let at = state.firstSubscription;
  while (at !== null && at.id < id) {
    before = at;
    at = at.next;
  }
  if (at !== null && at.id === id) return at;
  const created: SubscriptionHistory = { id, words: EMPTY_NUMBERS, refs: [], next: at };
  if (before === null) state.firstSubscription = created;
  else before.next = created;
  return created;
}

/** The customer's subscription histories, ascending by id. */
export function subscriptionsOf(state: CustomerState): SubscriptionHistory[] {
  const histories: SubscriptionHistory[] = [];
  for (let at = state.firstSubscription; at !== null; at = at.next) histories.push(at);
  return histories;
}

/**
 * `histories` linked into a list, the first returned: how a decoded state's histories are held. The caller has
 * checked they are ascending by id (the codec refuses a record where they are not).
 */
export function linkSubscriptions(histories: readonly SubscriptionHistory[]): SubscriptionHistory | null {
  for (let i = 0; i < histories.length; i++) (histories[i] as SubscriptionHistory).next = histories[i + 1] ?? null;
  return histories[0] ?? null;
}

/**
 * Inserts a version in order. A deletion is terminal: versions after the first deletion are never kept, so a late
 * `updated` can't resurrect a subscription whatever order the events arrive in.
 */
function insertVersion(
  history: SubscriptionHistory,
  at: EpochMs,
  order: number,
  snapshot: SubscriptionSnapshot,
): boolean {
  const words = history.words;
  const count = versionCount(history);
  let index = count;
  while (index > 0 && compareVersionWith(history, index - 1, at, order) > 0) index--;
  if (index > 0) {
    if (compareVersionWith(history, index - 1, at, order) === 0) return false;
    if (versionIsDeletion(history, index - 1)) return false;
  }
  const packed = packBody(history, snapshot);
  const start = bodiesStart(history);
  const found = findBody(words, start, packed);
  const bodyWords = Math.max(0, words.length - start);
  const body = found >= 0 ? found : bodyWords;
  const keptAfter = order >= RANK_DELETE * ORDER_RANK_UNIT ? 0 : count - index;
  const nextCount = index + 1 + keptAfter;
  // Rebuilt at exact length: V8 leaves spare capacity after a splice, which adds up over a million histories.
  const next = new Array<number>(1 + nextCount * VERSION_STRIDE + bodyWords + (found >= 0 ? 0 : packed.length));
  next[0] = nextCount + (isTruncated(history) ? TRUNCATED_UNIT : 0);
  let to = 1;
  for (let i = 1; i < 1 + index * VERSION_STRIDE; i++) next[to++] = words[i] as number;
  next[to++] = at;
  next[to++] = versionWord(order, body);
  for (let i = 1 + index * VERSION_STRIDE; i < 1 + (index + keptAfter) * VERSION_STRIDE; i++) {
    next[to++] = words[i] as number;
  }
  for (let i = start; i < words.length; i++) next[to++] = words[i] as number;
  if (found < 0) for (const word of packed) next[to++] = word;
  history.words = next;
  const overLimit = nextCount - CUSTOMER_STATE_LIMITS.versionsPerSubscription;
  if (overLimit > 0) canonicalize(history, overLimit, true);
  else if (index < count) canonicalize(history, 0, isTruncated(history));
  return true;
}

function compareVersionWith(history: SubscriptionHistory, index: number, at: EpochMs, order: number): number {
  return versionAt(history, index) - at || versionOrder(history, index) - order;
}

/**
 * Rewrites the history from its version `from` on in its canonical layout: bodies in the order their first version
 * refers to them, refs in the order those bodies first use them, nothing that no kept version refers to. A history
 * built from versions in event order is canonical already (bodies and refs are appended as first seen); after a
 * version inserted before newer ones, a deletion that dropped later versions or a truncation (the versions before
 * `from` dropped), it would not be, and the same events in another order would leave another layout: the same MRR,
 * other bytes in the changelog.
 */
function canonicalize(history: SubscriptionHistory, from: number, truncated: boolean): void {
  const words = history.words;
  const count = versionCount(history);
  const start = bodiesStart(history);
  const table: RefTable = { refs: [] };
  const remap = new Map<number, number>();
  const versions: number[] = [];
  const bodies: number[] = [];
  for (let index = from; index < count; index++) {
    const old = versionBodyOffset(history, index);
    let mapped = remap.get(old);
    if (mapped === undefined) {
      mapped = bodies.length;
      remap.set(old, mapped);
      // Packing ignores the snapshot's customer id: no need to know it here.
      for (const word of packBody(table, unpackBody(words, start + old, history.refs, history.id, ''))) {
        bodies.push(word);
      }
    }
    versions.push(versionAt(history, index), versionWord(versionOrder(history, index), mapped));
  }
  history.words = [count - from + (truncated ? TRUNCATED_UNIT : 0)].concat(versions, bodies);
  history.refs = table.refs;
}

/**
 * `discount` as state keeps it: its customer and subscription ids are the strings the state already holds (its
 * customerId, the subscription history's id) when they are equal, not second copies (~20 bytes per customer).
 */
export function discountSharingIds(
  customerId: string,
  firstSubscription: SubscriptionHistory | null,
  discount: Discount,
): Discount {
  return {
    id: discount.id,
    couponId: discount.couponId,
    percentOff: discount.percentOff,
    amountOff: discount.amountOff,
    amountOffCurrency: discount.amountOffCurrency,
    duration: discount.duration,
    durationInMonths: discount.durationInMonths,
    start: discount.start,
    end: discount.end,
    customerId: sharedCustomerId(customerId, discount.customerId),
    subscriptionId: sharedSubscriptionId(firstSubscription, discount.subscriptionId),
    subscriptionItemId: discount.subscriptionItemId,
  };
}

/** `id`, as the state's own customer-id string when equal. */
export function sharedCustomerId(customerId: string, id: string | null): string | null {
  return id === customerId ? customerId : id;
}

/** `id`, as the id string of the state's subscription history with that id, if there is one. */
export function sharedSubscriptionId(firstSubscription: SubscriptionHistory | null, id: string | null): string | null {
  if (id === null) return null;
  for (let at = firstSubscription; at !== null; at = at.next) if (at.id === id) return at.id;
  return id;
}

function upsertDiscount(
  state: CustomerState,
  incoming: Discount,
  version: Versioned,
  removedAt: EpochMs | null,
): boolean {
  const records = state.discounts;
  const index = records.findIndex((record) => record.discount.id === incoming.id);
  const existing = index >= 0 ? records[index] : undefined;
  if (existing === undefined) {
    const discount = discountSharingIds(state.customerId, state.firstSubscription, incoming);
    const record = { at: version.at, rank: version.rank, tie: version.tie, discount, removedAt };
    state.discounts = appended(records, record, CUSTOMER_STATE_LIMITS.discounts, compareVersions);
    return true;
  }
  const mergedRemovedAt = earliest(existing.removedAt, removedAt);
  const newer = compareVersions(version, existing) > 0;
  if (!newer && mergedRemovedAt === existing.removedAt) return false;
  const record = newer
    ? {
        at: version.at,
        rank: version.rank,
        tie: version.tie,
        discount: discountSharingIds(state.customerId, state.firstSubscription, incoming),
        removedAt: mergedRemovedAt,
      }
    : {
        at: existing.at,
        rank: existing.rank,
        tie: existing.tie,
        discount: existing.discount,
        removedAt: mergedRemovedAt,
      };
  state.discounts = replaced(records, index, record, compareVersions);
  return true;
}

function earliest(a: EpochMs | null, b: EpochMs | null): EpochMs | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function applyDiscountFact(state: CustomerState, fact: DiscountFact): boolean {
  const version = versionOf(fact.eventId, fact.at, fact.deleted ? RANK_DELETE : RANK_CREATE);
  return upsertDiscount(state, fact.discount, version, fact.deleted ? fact.at : null);
}

function applyInvoice(_state: CustomerState, _fact: InvoiceFact): boolean {
  // MRR follows subscription state (Stripe Billing's definition) and dunning shows through the subscription's
  // past_due/unpaid status and failed charges, so an invoice changes nothing the profile reports.
  return false;
}

function applyCharge(state: CustomerState, fact: ChargeFact): boolean {
  if (fact.status === 'failed') return replaceWords(state, withFailedCharge(state.words, fnv1a32(fact.chargeId)));
  if (fact.status !== 'succeeded' || (fact.cardCountry === null && fact.billingCountry === null)) return false;
  const version = versionOf(fact.eventId, fact.at, CHARGE_RANK);
  if (!newerThanLastCharge(state.words, version, CHARGE_RANK)) return false;
  setLastCharge(state.words, {
    at: version.at,
    tie: version.tie,
    cardCountry: fact.cardCountry,
    billingCountry: fact.billingCountry,
  });
  return true;
}

function applyPaymentMethod(state: CustomerState, fact: PaymentMethodFact): boolean {
  // A detachment is final for that payment method, like a subscription deletion (withPaymentMethod keeps it so).
  const version = versionOf(fact.eventId, fact.at, fact.detached ? RANK_DELETE : RANK_UPDATE);
  return replaceWords(
    state,
    withPaymentMethod(state.words, {
      at: version.at,
      rank: version.rank,
      tie: version.tie,
      idHash: fnv1a32(fact.paymentMethodId),
      cardCountry: fact.cardCountry,
      billingCountry: fact.billingCountry,
      detached: fact.detached,
    }),
  );
}

function applyDispute(state: CustomerState, fact: DisputeFact): boolean {
  const version = versionOf(fact.eventId, fact.at, RANK_UPDATE);
  return replaceWords(
    state,
    withDispute(state.words, {
      at: version.at,
      rank: version.rank,
      tie: version.tie,
      idHash: fnv1a32(fact.disputeId),
      status: fact.status,
    }),
  );
}

/** Gives the state `next` when a record changed (true), else keeps its words (false). */
function replaceWords(state: CustomerState, next: CustomerWords | null): boolean {
  if (next === null) return false;
  state.words = next;
  return true;
}

/** Looks up a discount as it applies: a removal ends it at the removal time. */
export function discountLookup(state: CustomerState): (id: string) => Discount | undefined {
  return (id) => {
    const record = state.discounts.find((candidate) => candidate.discount.id === id);
    if (record === undefined) return undefined;
    if (record.removedAt === null) return record.discount;
    const end = record.discount.end === null ? record.removedAt : Math.min(record.discount.end, record.removedAt);
    return { ...record.discount, end };
  };
}
