import type { Price, SubscriptionItem, SubscriptionSnapshot, SubscriptionStatus } from '../stripe/model.js';
import { internPrice, samePrice, sameIds } from './price-pool.js';

/**
 * A subscription version's body, packed: what the MRR rules read, as numbers, with strings, prices and id lists
 * stored once per subscription in `refs`. A body costs ~100 bytes instead of ~300 as objects, and equal bodies
 * (renewals, active → past_due → active) are stored once. Decoded back into a SubscriptionSnapshot only to be valued.
 *
 * Layout: status, flags, created, cancelAt, canceledAt, endedAt, trialEnd (NaN = null), currency ref, discount-ids ref,
 * item count, then per item: item-id ref, price ref, quantity, discount-ids ref.
 */
export type PackedBody = number[];

export interface BodyTable {
  bodies: PackedBody[];
  refs: unknown[];
}

const STATUSES: readonly SubscriptionStatus[] = [
  'active',
  'past_due',
  'trialing',
  'incomplete',
  'incomplete_expired',
  'unpaid',
  'canceled',
  'paused',
];
const FLAG_CANCEL_AT_PERIOD_END = 1;
const FLAG_PAUSE_COLLECTION = 2;
const HEADER = 10;
const ITEM_STRIDE = 4;
const EMPTY_IDS: readonly string[] = Object.freeze([]);

/** Index of `snapshot`'s packed body in `table`, appended when no equal body is there. */
export function internPackedBody(table: BodyTable, snapshot: SubscriptionSnapshot): number {
  const packed = pack(table, snapshot);
  for (let i = table.bodies.length - 1; i >= 0; i--) {
    if (samePacked(table.bodies[i] as PackedBody, packed)) return i;
  }
  table.bodies = [...table.bodies, packed];
  return table.bodies.length - 1;
}

export function unpackBody(
  table: BodyTable,
  index: number,
  subscriptionId: string,
  customerId: string,
): SubscriptionSnapshot {
  const body = table.bodies[index] as PackedBody;
  const refs = table.refs;
  const items: SubscriptionItem[] = [];
  const count = body[9] as number;
  for (let i = 0; i < count; i++) {
    const offset = HEADER + i * ITEM_STRIDE;
    items.push({
      id: refs[body[offset] as number] as string,
      price: refs[body[offset + 1] as number] as Price,
      quantity: body[offset + 2] as number,
      discountIds: refs[body[offset + 3] as number] as readonly string[],
      currentPeriodStart: null,
      currentPeriodEnd: null,
    });
  }
  const flags = body[1] as number;
  return {
    id: subscriptionId,
    customerId,
    status: STATUSES[body[0] as number] as SubscriptionStatus,
    currency: refs[body[7] as number] as string,
    created: body[2] as number,
    items,
    discountIds: refs[body[8] as number] as readonly string[],
    cancelAtPeriodEnd: (flags & FLAG_CANCEL_AT_PERIOD_END) !== 0,
    cancelAt: nullable(body[3] as number),
    canceledAt: nullable(body[4] as number),
    endedAt: nullable(body[5] as number),
    pauseCollection: (flags & FLAG_PAUSE_COLLECTION) !== 0,
    trialEnd: nullable(body[6] as number),
  };
}

function pack(table: BodyTable, snapshot: SubscriptionSnapshot): PackedBody {
  // Sized up front: V8 gives a pushed-to array spare capacity, which would double a small body's size.
  const packed: PackedBody = new Array<number>(HEADER + snapshot.items.length * ITEM_STRIDE);
  packed[0] = STATUSES.indexOf(snapshot.status);
  packed[1] =
    (snapshot.cancelAtPeriodEnd ? FLAG_CANCEL_AT_PERIOD_END : 0) |
    (snapshot.pauseCollection ? FLAG_PAUSE_COLLECTION : 0);
  packed[2] = snapshot.created;
  packed[3] = orNaN(snapshot.cancelAt);
  packed[4] = orNaN(snapshot.canceledAt);
  packed[5] = orNaN(snapshot.endedAt);
  packed[6] = orNaN(snapshot.trialEnd);
  packed[7] = refOf(table, (ref) => ref === snapshot.currency, snapshot.currency);
  packed[8] = idsRef(table, snapshot.discountIds);
  packed[9] = snapshot.items.length;
  snapshot.items.forEach((item, i) => {
    const offset = HEADER + i * ITEM_STRIDE;
    packed[offset] = refOf(table, (ref) => ref === item.id, item.id);
    packed[offset + 1] = refOf(table, (ref) => isPrice(ref) && samePrice(ref, item.price), item.price, internPrice);
    packed[offset + 2] = item.quantity;
    packed[offset + 3] = idsRef(table, item.discountIds);
  });
  return packed;
}

function isPrice(ref: unknown): ref is Price {
  return typeof ref === 'object' && ref !== null && !Array.isArray(ref);
}

function idsRef(table: BodyTable, ids: readonly string[]): number {
  return refOf(
    table,
    (ref) => Array.isArray(ref) && sameIds(ref as readonly string[], ids),
    ids,
    (value) => (value.length === 0 ? EMPTY_IDS : [...value]),
  );
}

/** Index of the ref matching `matches`, appended (as `store(value)`) when there is none; `refs` stays exact-length. */
function refOf<T>(
  table: BodyTable,
  matches: (ref: unknown) => boolean,
  value: T,
  store: (value: T) => unknown = (v) => v,
): number {
  const index = table.refs.findIndex(matches);
  if (index >= 0) return index;
  table.refs = [...table.refs, store(value)];
  return table.refs.length - 1;
}

function samePacked(a: PackedBody, b: PackedBody): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}

function orNaN(value: number | null): number {
  return value ?? Number.NaN;
}

function nullable(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}
