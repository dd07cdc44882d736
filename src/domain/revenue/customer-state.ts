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
import { bodyLength, internPackedBody } from './subscription-body.js';

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
  customer: CustomerRecord | null;
  /** Sorted by subscription id. */
  subscriptions: readonly SubscriptionHistory[];
  discounts: readonly DiscountRecord[];
  /** Ascending by version. */
  paymentMethods: readonly PaymentMethodRecord[];
  lastCharge: ChargeRecord | null;
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

export interface CustomerRecord extends Versioned {
  readonly email: string | null;
  readonly name: string | null;
  readonly currency: string | null;
  readonly delinquent: boolean;
  readonly addressCountry: string | null;
  readonly deleted: boolean;
}

export interface SubscriptionHistory {
  readonly id: string;
  /**
   * Versions ascending, as flat triples (event time, order, body): order = rank × 2³² + event-id hash, body = offset
   * of the version's packed body in `bodies`. The history ends at the first deletion (rank DELETE).
   */
  versions: readonly number[];
  /** Distinct packed bodies the versions point at, end to end (see subscription-body.ts), and the strings/prices/id lists they refer to. */
  bodies: number[];
  refs: unknown[];
  /**
   * Older versions were dropped to bound memory: the oldest kept version counts as already in place (it starts the
   * movement history without a movement of its own).
   */
  truncated: boolean;
}

export const VERSION_STRIDE = 3;
const ORDER_RANK_UNIT = 2 ** 32;

export function versionCount(history: SubscriptionHistory): number {
  return history.versions.length / VERSION_STRIDE;
}

export function versionAt(history: SubscriptionHistory, index: number): EpochMs {
  return history.versions[index * VERSION_STRIDE] as number;
}

export function versionIsDeletion(history: SubscriptionHistory, index: number): boolean {
  return (history.versions[index * VERSION_STRIDE + 1] as number) >= RANK_DELETE * ORDER_RANK_UNIT;
}

/** Offset in `history.bodies` of the version's packed body. */
export function versionBodyOffset(history: SubscriptionHistory, index: number): number {
  return history.versions[index * VERSION_STRIDE + 2] as number;
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

export interface ChargeRecord extends Versioned {
  readonly cardCountry: string | null;
  readonly billingCountry: string | null;
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
    customer: null,
    subscriptions: EMPTY,
    discounts: EMPTY,
    paymentMethods: EMPTY,
    lastCharge: null,
    failedCharges: EMPTY,
    disputes: EMPTY,
  };
}

export function compareVersions(a: Versioned, b: Versioned): number {
  return a.at - b.at || a.rank - b.rank || a.tie - b.tie;
}

function isNewer(candidate: Versioned, current: Versioned | null): boolean {
  return current === null || compareVersions(candidate, current) > 0;
}

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
  const version = versionOf(fact.eventId, fact.at, fact.deleted ? RANK_DELETE : RANK_UPDATE);
  let changed = false;
  if (fact.discount !== null) changed = upsertDiscount(state, fact.discount, version, null);
  if (!isNewer(version, state.customer)) return changed;
  state.customer = {
    at: version.at,
    rank: version.rank,
    tie: version.tie,
    email: fact.email,
    name: fact.name,
    currency: fact.currency,
    delinquent: fact.delinquent,
    addressCountry: fact.addressCountry,
    deleted: fact.deleted,
  };
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
  let lo = 0;
  let hi = subs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const midId = (subs[mid] as SubscriptionHistory).id;
    if (midId < id) lo = mid + 1;
    else hi = mid;
  }
  const found = subs[lo];
  if (found !== undefined && found.id === id) return found;
  const created: SubscriptionHistory = { id, versions: EMPTY_NUMBERS, bodies: [], refs: [], truncated: false };
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
  const versions = history.versions;
  let index = versions.length;
  while (index > 0 && compareTriple(versions, index - VERSION_STRIDE, at, order) > 0) index -= VERSION_STRIDE;
  if (index > 0) {
    const previous = index - VERSION_STRIDE;
    if (compareTriple(versions, previous, at, order) === 0) return false;
    if ((versions[previous + 1] as number) >= RANK_DELETE * ORDER_RANK_UNIT) return false;
  }
  const body = internPackedBody(history, snapshot);
  // Rebuilt at exact length: V8 leaves spare capacity after a splice, which adds up over a million histories.
  const end = order >= RANK_DELETE * ORDER_RANK_UNIT ? index : versions.length;
  const next = new Array<number>(end + VERSION_STRIDE);
  for (let i = 0; i < index; i++) next[i] = versions[i] as number;
  next[index] = at;
  next[index + 1] = order;
  next[index + 2] = body;
  for (let i = index; i < end; i++) next[i + VERSION_STRIDE] = versions[i] as number;
  history.versions = next;
  const limit = CUSTOMER_STATE_LIMITS.versionsPerSubscription * VERSION_STRIDE;
  if (history.versions.length > limit) {
    history.versions = history.versions.slice(history.versions.length - limit);
    history.truncated = true;
    dropUnreferencedBodies(history);
  }
  return true;
}

function compareTriple(versions: readonly number[], offset: number, at: EpochMs, order: number): number {
  return (versions[offset] as number) - at || (versions[offset + 1] as number) - order;
}

function dropUnreferencedBodies(history: SubscriptionHistory): void {
  const remap = new Map<number, number>();
  const kept: number[] = [];
  const versions = history.versions.slice();
  const words = history.bodies;
  for (let offset = 2; offset < versions.length; offset += VERSION_STRIDE) {
    const old = versions[offset] as number;
    let mapped = remap.get(old);
    if (mapped === undefined) {
      mapped = kept.length;
      remap.set(old, mapped);
      const end = old + bodyLength(words[old] as number);
      for (let i = old; i < end; i++) kept.push(words[i] as number);
    }
    versions[offset] = mapped;
  }
  history.versions = versions;
  history.bodies = kept.slice();
}

function upsertDiscount(
  state: CustomerState,
  discount: Discount,
  version: Versioned,
  removedAt: EpochMs | null,
): boolean {
  const records = state.discounts;
  const index = records.findIndex((record) => record.discount.id === discount.id);
  const existing = index >= 0 ? records[index] : undefined;
  if (existing === undefined) {
    const record = { at: version.at, rank: version.rank, tie: version.tie, discount, removedAt };
    state.discounts = appended(records, record, CUSTOMER_STATE_LIMITS.discounts, compareVersions);
    return true;
  }
  const mergedRemovedAt = earliest(existing.removedAt, removedAt);
  const newer = isNewer(version, existing);
  if (!newer && mergedRemovedAt === existing.removedAt) return false;
  const record = newer
    ? { at: version.at, rank: version.rank, tie: version.tie, discount, removedAt: mergedRemovedAt }
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
  const version = versionOf(fact.eventId, fact.at, RANK_UPDATE);
  if (!isNewer(version, state.lastCharge)) return false;
  state.lastCharge = {
    at: version.at,
    rank: version.rank,
    tie: version.tie,
    cardCountry: fact.cardCountry,
    billingCountry: fact.billingCountry,
  };
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
