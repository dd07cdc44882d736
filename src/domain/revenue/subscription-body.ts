import {
  SUBSCRIPTION_STATUSES,
  type Price,
  type SubscriptionItem,
  type SubscriptionSnapshot,
  type SubscriptionStatus,
} from '../stripe/model.js';
import { internPrice, samePrice, sameIds } from './price-pool.js';

/**
 * A subscription version's body, packed: what the MRR rules read, as numbers, with strings, prices and id lists
 * stored once per subscription in `refs`. Equal bodies (renewals, active → past_due → active) are stored once, and a
 * subscription's distinct bodies sit end to end after its versions in one array of words (see SubscriptionHistory),
 * a body named by the offset of its first word from the first body's: an array per body cost ~50 bytes of array
 * headers on top of its ~40 bytes of words. Decoded back into a SubscriptionSnapshot only to be valued.
 *
 * Layout (refs are < 2¹⁶, several packed into one double, exact below 2⁵³):
 *   [0] status + 8·flags + 32·presence + 512·item count   (presence: which of cancelAt, canceledAt, endedAt, trialEnd follow)
 *   [1] created
 *   [2] currency ref + 2¹⁶·discount-ids ref
 *   the present optional instants, in that order
 *   per item: item-id ref + 2¹⁶·discount-ids ref + 2³²·price ref, then quantity
 */
export type PackedBody = number[];

/** Where a subscription's strings, prices and id lists are kept; packing appends to it (at exact length). */
export interface RefTable {
  refs: unknown[];
}

const STATUSES: readonly SubscriptionStatus[] = SUBSCRIPTION_STATUSES;
const FLAG_CANCEL_AT_PERIOD_END = 1;
const FLAG_PAUSE_COLLECTION = 2;
const REF_UNIT = 2 ** 16;
const MAX_REFS = REF_UNIT;
const OPTIONAL_INSTANTS = 4;
const EMPTY_IDS: readonly string[] = Object.freeze([]);

/**
 * Among the bodies end to end in `words` from `start`, the offset (from `start`) of one equal to `packed`, or −1.
 */
export function findBody(words: readonly number[], start: number, packed: PackedBody): number {
  for (let at = start; at < words.length; at += bodyLength(words[at] as number)) {
    if (samePackedAt(words, at, packed)) return at - start;
  }
  return -1;
}

/** Words in a packed body, from its head word. */
export function bodyLength(head: number): number {
  return 3 + presentInstants(Math.floor(head / 32) % 16) + 2 * Math.floor(head / 512);
}

/**
 * Offsets (from `start`) of the bodies end to end in `words` from `start`, in order; null when those words do not
 * split into whole bodies.
 */
export function bodyOffsets(words: readonly number[], start = 0): number[] | null {
  const offsets: number[] = [];
  let at = start;
  while (at < words.length) {
    const head = words[at] as number;
    if (!Number.isSafeInteger(head) || head < 0) return null;
    offsets.push(at - start);
    at += bodyLength(head);
  }
  return at === words.length ? offsets : null;
}

/** The body whose head word is `words[offset]`, as a snapshot. */
export function unpackBody(
  words: readonly number[],
  offset: number,
  refs: readonly unknown[],
  subscriptionId: string,
  customerId: string,
): SubscriptionSnapshot {
  const head = words[offset] as number;
  const status = head % 8;
  const flags = Math.floor(head / 8) % 4;
  const presence = Math.floor(head / 32) % 16;
  const itemCount = Math.floor(head / 512);
  const instants: (number | null)[] = [];
  let at = offset + 3;
  for (let bit = 0; bit < OPTIONAL_INSTANTS; bit++) {
    instants.push((presence & (1 << bit)) !== 0 ? (words[at++] as number) : null);
  }
  const items: SubscriptionItem[] = [];
  for (let i = 0; i < itemCount; i++) {
    const word = words[at++] as number;
    items.push({
      id: refs[word % REF_UNIT] as string,
      price: refs[Math.floor(word / REF_UNIT / REF_UNIT)] as Price,
      quantity: words[at++] as number,
      discountIds: refs[Math.floor(word / REF_UNIT) % REF_UNIT] as readonly string[],
      currentPeriodStart: null,
      currentPeriodEnd: null,
    });
  }
  const refsWord = words[offset + 2] as number;
  return {
    id: subscriptionId,
    customerId,
    status: STATUSES[status] as SubscriptionStatus,
    currency: refs[refsWord % REF_UNIT] as string,
    created: words[offset + 1] as number,
    items,
    discountIds: refs[Math.floor(refsWord / REF_UNIT)] as readonly string[],
    cancelAtPeriodEnd: (flags & FLAG_CANCEL_AT_PERIOD_END) !== 0,
    cancelAt: instants[0] ?? null,
    canceledAt: instants[1] ?? null,
    endedAt: instants[2] ?? null,
    pauseCollection: (flags & FLAG_PAUSE_COLLECTION) !== 0,
    trialEnd: instants[3] ?? null,
  };
}

/** `snapshot` as a packed body, its strings, prices and id lists added to `table` when new. */
export function packBody(table: RefTable, snapshot: SubscriptionSnapshot): PackedBody {
  const optional = [snapshot.cancelAt, snapshot.canceledAt, snapshot.endedAt, snapshot.trialEnd];
  let presence = 0;
  let present = 0;
  for (let bit = 0; bit < OPTIONAL_INSTANTS; bit++) {
    if (optional[bit] !== null) {
      presence |= 1 << bit;
      present++;
    }
  }
  const flags =
    (snapshot.cancelAtPeriodEnd ? FLAG_CANCEL_AT_PERIOD_END : 0) |
    (snapshot.pauseCollection ? FLAG_PAUSE_COLLECTION : 0);
  // Sized up front: V8 gives a pushed-to array spare capacity, which would double a small body's size.
  const words: PackedBody = new Array<number>(3 + present + 2 * snapshot.items.length);
  words[0] = STATUSES.indexOf(snapshot.status) + 8 * flags + 32 * presence + 512 * snapshot.items.length;
  words[1] = snapshot.created;
  words[2] = stringRef(table, snapshot.currency) + REF_UNIT * idsRef(table, snapshot.discountIds);
  let offset = 3;
  for (const instant of optional) if (instant !== null) words[offset++] = instant;
  for (const item of snapshot.items) {
    const refs = stringRef(table, item.id) + REF_UNIT * idsRef(table, item.discountIds);
    words[offset++] = refs + REF_UNIT * REF_UNIT * priceRef(table, item.price);
    words[offset++] = item.quantity;
  }
  return words;
}

function stringRef(table: RefTable, value: string): number {
  const index = table.refs.indexOf(value);
  return index >= 0 ? index : appendRef(table, value);
}

function priceRef(table: RefTable, price: Price): number {
  const refs = table.refs;
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    if (typeof ref === 'object' && ref !== null && !Array.isArray(ref) && samePrice(ref as Price, price)) return i;
  }
  return appendRef(table, internPrice(price));
}

function idsRef(table: RefTable, ids: readonly string[]): number {
  const refs = table.refs;
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    if (Array.isArray(ref) && sameIds(ref as readonly string[], ids)) return i;
  }
  return appendRef(table, ids.length === 0 ? EMPTY_IDS : ids.slice());
}

/** Appends a ref, keeping `refs` at its exact length. */
function appendRef(table: RefTable, value: unknown): number {
  if (table.refs.length >= MAX_REFS) throw new RangeError('a subscription refers to more than 65,536 distinct values');
  table.refs = table.refs.concat([value]);
  return table.refs.length - 1;
}

function presentInstants(presence: number): number {
  let count = 0;
  for (let bit = 0; bit < OPTIONAL_INSTANTS; bit++) if ((presence & (1 << bit)) !== 0) count++;
  return count;
}

function samePackedAt(words: readonly number[], offset: number, b: PackedBody): boolean {
  if (bodyLength(words[offset] as number) !== b.length) return false;
  for (let i = 0; i < b.length; i++) {
    const x = words[offset + i] as number;
    const y = b[i] as number;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}
