import { fnv1a32 } from '../hash.js';

/** Load factor bound: a probe rarely passes more than one or two occupied slots. */
const MAX_LOAD = 0.5;
const INITIAL_CAPACITY = 1_024;

/**
 * A key's hash in an EntityIndex: FNV-1a finished with murmur3's avalanche (linear probing needs well-mixed low
 * bits, which FNV-1a alone does not give for ids differing in their last characters); never 0, which marks an empty
 * slot.
 */
export function entityKeyHash(key: string): EntityKeyHash {
  let hash = fnv1a32(key);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash === 0 ? 1 : hash) as EntityKeyHash;
}

declare const entityKeyHashBrand: unique symbol;
/**
 * A number only entityKeyHash makes: a hash carried apart from its key (DomainInput.keyHash) cannot be made up, and a
 * made-up one would find no state and give the key a second one.
 */
export type EntityKeyHash = number & { readonly [entityKeyHashBrand]: true };

/**
 * Entity states by key: open addressing with linear probing, the slots' key hashes in an Int32Array beside the
 * states, each state holding its own key (`keyOf`), so a lookup reads the hash array, the state and its key: the
 * loads a Map makes (bucket, entry, key, value), but split into steps a caller can take for many keys before it
 * needs any of them. With a hundred thousand entities every step is a cache miss; taken for a group of keys at a
 * time (EntityStates.applyBatch) the misses overlap instead of following one another.
 */
export class EntityIndex<S extends object> {
  private hashes = new Int32Array(INITIAL_CAPACITY);
  private states: (S | undefined)[] = new Array<S | undefined>(INITIAL_CAPACITY).fill(undefined);
  private mask = INITIAL_CAPACITY - 1;
  private count = 0;

  constructor(private readonly keyOf: (state: S) => string) {}

  get size(): number {
    return this.count;
  }

  /** The state for `key` (whose entityKeyHash is `hash`), if there is one. */
  get(key: string, hash: number = entityKeyHash(key)): S | undefined {
    const hashes = this.hashes;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const held = hashes[slot];
      if (held === 0) return undefined;
      if (held === hash) {
        const state = this.states[slot] as S;
        if (this.keyOf(state) === key) return state;
      }
    }
  }

  /** Adds the state of a key not in the index yet (`hash` = entityKeyHash of its key). */
  add(state: S, hash: number = entityKeyHash(this.keyOf(state))): void {
    if ((this.count + 1) / this.hashes.length > MAX_LOAD) this.grow();
    this.place(hash, state);
    this.count++;
  }

  /**
   * The state in the first slot a lookup of `hash` reads, if any: reading it (and through it, its key and fields)
   * ahead of the lookup brings those lines into the cache. Usually the state looked for, sometimes a neighbour: not
   * checked, since a branch on the slot's hash would wait for it.
   */
  candidate(hash: number): S | undefined {
    return this.states[hash & this.mask];
  }

  /** The states, in no particular order. */
  *values(): IterableIterator<S> {
    for (const state of this.states) if (state !== undefined) yield state;
  }

  *keys(): IterableIterator<string> {
    for (const state of this.values()) yield this.keyOf(state);
  }

  *[Symbol.iterator](): IterableIterator<[string, S]> {
    for (const state of this.values()) yield [this.keyOf(state), state];
  }

  clear(): void {
    this.emptySlots(INITIAL_CAPACITY);
    this.count = 0;
  }

  /** `capacity` (a power of two) empty slots in place of the current ones. */
  private emptySlots(capacity: number): void {
    this.hashes = new Int32Array(capacity);
    this.states = new Array<S | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  private place(hash: number, state: S): void {
    let slot = hash & this.mask;
    while (this.hashes[slot] !== 0) slot = (slot + 1) & this.mask;
    this.hashes[slot] = hash;
    this.states[slot] = state;
  }

  private grow(): void {
    const hashes = this.hashes;
    const states = this.states;
    this.emptySlots(hashes.length * 2);
    for (let slot = 0; slot < hashes.length; slot++) {
      const hash = hashes[slot] as number;
      if (hash !== 0) this.place(hash, states[slot] as S);
    }
  }
}
