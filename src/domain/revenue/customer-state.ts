import { fnv1a32 } from '../hash.js';
import type {
  ChargeFact,
  CustomerFact,
  Discount,
  DiscountFact,
  DisputeFact,
  DisputeStatus,
  InvoiceFact,
  PaymentMethodFact,
  StripeFact,
  SubscriptionFact,
  SubscriptionSnapshot,
} from '../stripe/model.js';
import type { EpochMs } from '../time.js';
import { appended, EMPTY, replaced } from './exact-arrays.js';
import { bodyLength, findBody, packBody } from './subscription-body.js';

const EMPTY_NUMBERS: readonly number[] = EMPTY;

/**
 * Everything the core keeps about one Stripe customer. Every part is a set of facts ordered by
 * (event time, kind rank, event-id hash), never by arrival: applying the same facts in any order, any number
 * of times, gives the same state. That is what makes Stripe's at-least-once, unordered delivery harmless.
 */
export interface CustomerState {
  readonly kind: 'customer';
  readonly customerId: string;
  lastEventAt: EpochMs;
  /**
   * The newest version of the customer object, its fields held on the state itself (with the last charge's, one
   * object per customer instead of three: ~80 bytes less each): event time (−Infinity while none was seen) and
   * event-id hash; a deleted customer's version ranks as a deletion.
   */
  customerAt: EpochMs;
  customerTie: number;
  email: string | null;
  name: string | null;
  currency: string | null;
  delinquent: boolean;
  addressCountry: string | null;
  customerDeleted: boolean;
  /** Sorted by subscription id. */
  subscriptions: readonly SubscriptionHistory[];
  discounts: readonly DiscountRecord[];
  /** Ascending by version. */
  paymentMethods: readonly PaymentMethodRecord[];
  /** The newest successful charge that named a country: event time (−Infinity while none), event-id hash, countries. */
  lastChargeAt: EpochMs;
  lastChargeTie: number;
  lastChargeCardCountry: string | null;
  lastChargeBillingCountry: string | null;
  /** FNV-1a hashes of failed charges' ids (bounded). */
  failedCharges: readonly number[];
  disputes: readonly DisputeRecord[];
}

/**
 * Version order key: event time, then rank (a deletion sorts after any update of the same second), then id hash.
 * Records are built as plain literals, never with object spread: V8 gives spread copies a slow, far larger shape
 * (measured: ~600 bytes more per record), which matters at a million customers.
 */
interface Versioned {
  readonly at: EpochMs;
  readonly rank: number;
  readonly tie: number;
}

export interface SubscriptionHistory {
  readonly id: string;
  /**
   * The versions and the bodies they point at, in one array (one array header per subscription instead of two):
   *   [0] number of versions n
   *   then n pairs ascending (event time, order × 2¹⁹ + body): order = rank × 2³² + event-id hash, body = offset of
   *   the version's packed body from the first body's word (bodiesStart); the pair's second word stays below 2⁵³
   *   (order < 3 × 2³², body < 2¹⁹), so it is exact, and a version costs two words instead of three
   *   then the distinct packed bodies, end to end (subscription-body.ts).
   * Empty for a history without versions. The history ends at the first deletion (rank DELETE).
   */
  words: readonly number[];
  /** The strings, prices and id lists the bodies refer to. */
  refs: unknown[];
  /**
   * Older versions were dropped to bound memory: the oldest kept version counts as already in place (it starts the
   * movement history without a movement of its own).
   */
  truncated: boolean;
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

export function versionCount(history: SubscriptionHistory): number {
  return history.words.length === 0 ? 0 : (history.words[0] as number);
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

/** Bounds that keep one customer's state small; beyond them the oldest entries are dropped (see README). */
export const CUSTOMER_STATE_LIMITS = {
  versionsPerSubscription: 24,
  paymentMethods: 8,
  failedCharges: 32,
  disputes: 16,
  discounts: 32,
} as const;

const RANK_CREATE = 0;
const RANK_UPDATE = 1;
const RANK_DELETE = 2;

export function createCustomerState(customerId: string): CustomerState {
  return {
    kind: 'customer',
    customerId,
    lastEventAt: Number.NEGATIVE_INFINITY,
    customerAt: Number.NEGATIVE_INFINITY,
    customerTie: 0,
    email: null,
    name: null,
    currency: null,
    delinquent: false,
    addressCountry: null,
    customerDeleted: false,
    subscriptions: EMPTY,
    discounts: EMPTY,
    paymentMethods: EMPTY,
    lastChargeAt: Number.NEGATIVE_INFINITY,
    lastChargeTie: 0,
    lastChargeCardCountry: null,
    lastChargeBillingCountry: null,
    failedCharges: EMPTY,
    disputes: EMPTY,
  };
}

export function compareVersions(a: Versioned, b: Versioned): number {
  return a.at - b.at || a.rank - b.rank || a.tie - b.tie;
}

function isNewer(candidate: Versioned, current: Versioned | null): boolean {
  return current === null || isNewerThan(candidate, current.at, current.rank, current.tie);
}

function isNewerThan(candidate: Versioned, at: EpochMs, rank: number, tie: number): boolean {
  return (candidate.at - at || candidate.rank - rank || candidate.tie - tie) > 0;
}

/** Whether a customer object was seen (its fields on the state are then its newest version's). */
export function hasCustomerObject(state: CustomerState): boolean {
  return state.customerAt !== Number.NEGATIVE_INFINITY;
}

export function hasLastCharge(state: CustomerState): boolean {
  return state.lastChargeAt !== Number.NEGATIVE_INFINITY;
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
  if (changed && fact.at > state.lastEventAt) state.lastEventAt = fact.at;
  return changed;
}

function applyCustomer(state: CustomerState, fact: CustomerFact): boolean {
  const version = versionOf(fact.eventId, fact.at, customerRank(fact.deleted));
  let changed = false;
  if (fact.discount !== null) changed = upsertDiscount(state, fact.discount, version, null);
  if (!isNewerThan(version, state.customerAt, customerRank(state.customerDeleted), state.customerTie)) return changed;
  state.customerAt = version.at;
  state.customerTie = version.tie;
  state.email = fact.email;
  state.name = fact.name;
  state.currency = fact.currency;
  state.delinquent = fact.delinquent;
  state.addressCountry = fact.addressCountry;
  state.customerDeleted = fact.deleted;
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
  const subs = state.subscriptions;
  const lo = subscriptionIndex(subs, id);
  const found = subs[lo];
  if (found !== undefined && found.id === id) return found;
  const created: SubscriptionHistory = { id, words: EMPTY_NUMBERS, refs: [], truncated: false };
  state.subscriptions = subs.slice(0, lo).concat([created], subs.slice(lo));
  return created;
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
  next[0] = nextCount;
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
  if (nextCount > CUSTOMER_STATE_LIMITS.versionsPerSubscription) {
    keepNewestVersions(history, CUSTOMER_STATE_LIMITS.versionsPerSubscription);
    history.truncated = true;
  }
  return true;
}

function compareVersionWith(history: SubscriptionHistory, index: number, at: EpochMs, order: number): number {
  return versionAt(history, index) - at || versionOrder(history, index) - order;
}

/** Drops all but the newest `limit` versions, and the bodies only they pointed at. */
function keepNewestVersions(history: SubscriptionHistory, limit: number): void {
  const words = history.words;
  const count = versionCount(history);
  const start = bodiesStart(history);
  const remap = new Map<number, number>();
  const kept: number[] = [];
  const versions: number[] = [];
  for (let index = count - limit; index < count; index++) {
    const old = versionBodyOffset(history, index);
    let mapped = remap.get(old);
    if (mapped === undefined) {
      mapped = kept.length;
      remap.set(old, mapped);
      const end = start + old + bodyLength(words[start + old] as number);
      for (let i = start + old; i < end; i++) kept.push(words[i] as number);
    }
    versions.push(versionAt(history, index), versionWord(versionOrder(history, index), mapped));
  }
  history.words = [limit].concat(versions, kept);
}

/**
 * `discount` as state keeps it: its customer and subscription ids are the strings the state already holds (its
 * customerId, the subscription history's id) when they are equal, not second copies (~20 bytes per customer).
 */
export function discountSharingIds(
  customerId: string,
  subscriptions: readonly SubscriptionHistory[],
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
    subscriptionId: sharedSubscriptionId(subscriptions, discount.subscriptionId),
    subscriptionItemId: discount.subscriptionItemId,
  };
}

/** `id`, as the state's own customer-id string when equal. */
export function sharedCustomerId(customerId: string, id: string | null): string | null {
  return id === customerId ? customerId : id;
}

/** `id`, as the id string of the state's subscription history with that id, if there is one. */
export function sharedSubscriptionId(subscriptions: readonly SubscriptionHistory[], id: string | null): string | null {
  return id === null ? null : (findSubscription(subscriptions, id)?.id ?? id);
}

function findSubscription(subscriptions: readonly SubscriptionHistory[], id: string): SubscriptionHistory | undefined {
  const found = subscriptions[subscriptionIndex(subscriptions, id)];
  return found !== undefined && found.id === id ? found : undefined;
}

/** Where `id` is, or would be inserted, in subscriptions sorted by id. */
function subscriptionIndex(subscriptions: readonly SubscriptionHistory[], id: string): number {
  let lo = 0;
  let hi = subscriptions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((subscriptions[mid] as SubscriptionHistory).id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
    const discount = discountSharingIds(state.customerId, state.subscriptions, incoming);
    const record = { at: version.at, rank: version.rank, tie: version.tie, discount, removedAt };
    state.discounts = appended(records, record, CUSTOMER_STATE_LIMITS.discounts, compareVersions);
    return true;
  }
  const mergedRemovedAt = earliest(existing.removedAt, removedAt);
  const newer = isNewer(version, existing);
  if (!newer && mergedRemovedAt === existing.removedAt) return false;
  const record = newer
    ? {
        at: version.at,
        rank: version.rank,
        tie: version.tie,
        discount: discountSharingIds(state.customerId, state.subscriptions, incoming),
        removedAt: mergedRemovedAt,
      }
    : {
        at: existing.at,
        rank: existing.rank,
        tie: existing.tie,
        discount: existing.discount,
        removedAt: mergedRemovedAt,
      };
  state.discounts = replaced(records, index, record);
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
  if (fact.status === 'failed') {
    const hash = fnv1a32(fact.chargeId);
    if (state.failedCharges.includes(hash)) return false;
    state.failedCharges = appended(state.failedCharges, hash, CUSTOMER_STATE_LIMITS.failedCharges);
    return true;
  }
  if (fact.status !== 'succeeded' || (fact.cardCountry === null && fact.billingCountry === null)) return false;
  const version = versionOf(fact.eventId, fact.at, CHARGE_RANK);
  if (!isNewerThan(version, state.lastChargeAt, CHARGE_RANK, state.lastChargeTie)) return false;
  state.lastChargeAt = version.at;
  state.lastChargeTie = version.tie;
  state.lastChargeCardCountry = fact.cardCountry;
  state.lastChargeBillingCountry = fact.billingCountry;
  return true;
}

function applyPaymentMethod(state: CustomerState, fact: PaymentMethodFact): boolean {
  const version = versionOf(fact.eventId, fact.at, fact.detached ? RANK_DELETE : RANK_UPDATE);
  const records = state.paymentMethods;
  const idHash = fnv1a32(fact.paymentMethodId);
  const index = records.findIndex((record) => record.idHash === idHash);
  const existing = index >= 0 ? records[index] : undefined;
  // A detachment is final for that payment method, like a subscription deletion.
  if (existing !== undefined && (existing.detached || !isNewer(version, existing))) return false;
  const record: PaymentMethodRecord = {
    at: version.at,
    rank: version.rank,
    tie: version.tie,
    idHash,
    cardCountry: fact.cardCountry,
    billingCountry: fact.billingCountry,
    detached: fact.detached,
  };
  state.paymentMethods =
    existing === undefined
      ? appended(records, record, CUSTOMER_STATE_LIMITS.paymentMethods, compareVersions)
      : replaced(records, index, record, compareVersions);
  return true;
}

function applyDispute(state: CustomerState, fact: DisputeFact): boolean {
  const version = versionOf(fact.eventId, fact.at, RANK_UPDATE);
  const records = state.disputes;
  const idHash = fnv1a32(fact.disputeId);
  const index = records.findIndex((record) => record.idHash === idHash);
  const existing = index >= 0 ? records[index] : undefined;
  if (existing !== undefined && !isNewer(version, existing)) return false;
  const record: DisputeRecord = {
    at: version.at,
    rank: version.rank,
    tie: version.tie,
    idHash,
    status: fact.status,
  };
  state.disputes =
    existing === undefined
      ? appended(records, record, CUSTOMER_STATE_LIMITS.disputes, compareVersions)
      : replaced(records, index, record);
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
